/** The primary's view of its standby, as `info` and `status` report it. */
export type Standby = 'in-sync' | 'syncing' | 'absent';
