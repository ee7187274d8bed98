/** A key as stored and as the API shows it: never its secret, which is kept only as a hash. */
export interface KeyRecord {
  id: string;
  name: string;
  owner: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
}
