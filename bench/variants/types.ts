/** What every benchmarked server offers the harness. */
export interface ServerConfig {
  /** HS256 secret tokens are signed with. */
  secret: string
  /**
   * Multi-instance runs: the Redis URL and a key prefix unique to this run; on Redis Cluster, the
   * cluster's startup nodes too (then `url` is not used).
   */
  redis?: { url: string, prefix: string, clusterNodes?: string[] }
}

export interface RunningServer {
  readonly port: number
  /** Open connections as the server counts them (to check that none was lost). */
  connections(): number
  close(): Promise<void>
}

export class NotAvailable extends Error {}
