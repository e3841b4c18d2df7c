/** The seed's mock catalogue; the product service's source of truth behind the cache. */
export interface Product {
  id: string;
  name: string;
  price: number;
  stock: number;
}

export const PRODUCTS: ReadonlyMap<string, Product> = new Map(
  [
    { id: '1', name: 'Laptop', price: 999.99, stock: 50 },
    { id: '2', name: 'Mouse', price: 29.99, stock: 200 },
    { id: '3', name: 'Keyboard', price: 79.99, stock: 150 },
  ].map((p) => [p.id, p]),
);
