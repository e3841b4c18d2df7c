import pg from 'pg';

const refuse = (method: string) => new Error(`the server at this address asked for the password as ${method}: ecomnet gives its passwords to SCRAM only (a server of ours asks for scram-sha-256)`);

/**
 * A pg client that gives its password only to SCRAM, which sends a proof the server must
 * already hold the verifier to check, never the password: a server asking for it in clear text
 * or as an md5 hash (a stranger listening where ours was) is refused before anything is sent.
 * Here, with the services, because it is the order service's too (only src/services is staged).
 */
export class ScramOnlyClient extends pg.Client {
  _handleAuthCleartextPassword(): void {
    this.connection.emit('error', refuse('clear text'));
  }

  _handleAuthMD5Password(): void {
    this.connection.emit('error', refuse('md5'));
  }
}
