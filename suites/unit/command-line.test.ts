/** The command line a user is told to run instead (no passwordless sudo; another user's platform): built from how the CLI was started. */
import { describe, expect, it } from 'vitest';
import { commandLineAs } from '../../src/host/exec.ts';

const argv = (...args: string[]) => [process.execPath, '/srv/ecomnet/bin/ecomnet.js', ...args];

describe('commandLineAs', () => {
  it('through npx: sudo npx ecomnet and the same arguments', () => {
    expect(commandLineAs('root', undefined, argv('up', '--network-only', '--detach'), { npm_lifecycle_event: 'npx', npm_command: 'exec' })).toBe('sudo npx ecomnet up --network-only --detach');
  });

  it("through npm start: the script's own arguments are not repeated, the user's follow --", () => {
    const env = { npm_lifecycle_event: 'start', npm_lifecycle_script: 'exec node bin/ecomnet.js up' };
    expect(commandLineAs('root', undefined, argv('up'), env)).toBe('sudo npm start');
    expect(commandLineAs('root', undefined, argv('up', '--data', 'containers'), env)).toBe('sudo npm start -- --data containers');
  });

  it('run directly: this Node and the CLI by absolute path, which sudo finds whatever its secure_path', () => {
    expect(commandLineAs('root', undefined, argv('down', '--topology', 'my lab.json'), {})).toBe(`sudo ${process.execPath} /srv/ecomnet/bin/ecomnet.js down --topology 'my lab.json'`);
  });

  it("as another user, another command: sudo -u NAME; under npm start, npx (the script's command is not the one meant)", () => {
    expect(commandLineAs('alice', ['down'], argv('up'), {})).toBe(`sudo -u alice ${process.execPath} /srv/ecomnet/bin/ecomnet.js down`);
    expect(commandLineAs('#1001', ['down'], argv('up'), { npm_lifecycle_event: 'start', npm_lifecycle_script: 'exec node bin/ecomnet.js up' })).toBe("sudo -u '#1001' npx ecomnet down");
  });

  it('quotes what a shell would split or expand, quotes included', () => {
    expect(commandLineAs('root', ['up', "it's $HOME"], argv(), {})).toMatch(/ up 'it'\\''s \$HOME'$/);
  });
});
