// Original file: proto/switchyard/v1/store.proto

import type { DifferenceTable as _switchyard_v1_DifferenceTable, DifferenceTable__Output as _switchyard_v1_DifferenceTable__Output } from '../../switchyard/v1/DifferenceTable.js';
import type { JournalEntry as _switchyard_v1_JournalEntry, JournalEntry__Output as _switchyard_v1_JournalEntry__Output } from '../../switchyard/v1/JournalEntry.js';

/**
 * One committed step of the store, recorded as what changed rather than as
 * the whole state (claim 2: a change costs what its diff costs, not what the
 * table costs). The configuration store appends it to its log and folds the
 * log into a slot now and then (a checkpoint).
 */
export interface StoreDelta {
  /**
   * When set, the table's next generation: its base_generation must be the
   * stored generation, or the delta is refused.
   */
  'diff'?: (_switchyard_v1_DifferenceTable | null);
  /**
   * When set, replaces the journal entry with the same change_id, or is
   * appended; the oldest entries beyond the journal limit go.
   */
  'journal_entry'?: (_switchyard_v1_JournalEntry | null);
  /**
   * Upserted like journal_entry, in order, before it: the final records of
   * changes that ended since the controller's last append, carried by the
   * next one instead of costing an append and an fdatasync each.
   */
  'earlier_journal_entries'?: (_switchyard_v1_JournalEntry)[];
}

/**
 * One committed step of the store, recorded as what changed rather than as
 * the whole state (claim 2: a change costs what its diff costs, not what the
 * table costs). The configuration store appends it to its log and folds the
 * log into a slot now and then (a checkpoint).
 */
export interface StoreDelta__Output {
  /**
   * When set, the table's next generation: its base_generation must be the
   * stored generation, or the delta is refused.
   */
  'diff': (_switchyard_v1_DifferenceTable__Output | null);
  /**
   * When set, replaces the journal entry with the same change_id, or is
   * appended; the oldest entries beyond the journal limit go.
   */
  'journal_entry': (_switchyard_v1_JournalEntry__Output | null);
  /**
   * Upserted like journal_entry, in order, before it: the final records of
   * changes that ended since the controller's last append, carried by the
   * next one instead of costing an append and an fdatasync each.
   */
  'earlier_journal_entries': (_switchyard_v1_JournalEntry__Output)[];
}
