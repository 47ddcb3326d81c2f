import { OspsError } from '../errors.js';

/**
 * The journal is damaged somewhere other than a torn tail: valid records follow the damage,
 * so cutting there would silently drop acknowledged writes. Nothing is changed on disk;
 * `osps repair` (repairJournal) is the way forward.
 */
export class JournalCorruptError extends OspsError {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(
      'JOURNAL_CORRUPT',
      `journal ${file} is corrupt at byte ${offset} (${reason}); it was left untouched: \`osps repair\` cuts it there and keeps a copy of the original`,
      { file, offset, reason },
    );
    this.name = 'JournalCorruptError';
  }
}
