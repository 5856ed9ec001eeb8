/**
 * The configuration information table of one apparatus, in two faces
 * (claim 13): the active face maps host I/O, the standby face takes the next
 * generation, and switching is one assignment, so no request ever sees half a
 * change.
 */
import assert from "node:assert/strict";
import type { ConfigurationTable__Output, LogicalUnit__Output } from "@switchyard/proto";
import { ExtentMap } from "./extent-map.js";

/**
 * One face: every volume's extent map at one generation. Only the standby
 * face is ever changed (by a difference table); the faces share no map.
 */
export class TableFace {
  generation: number;
  readonly lus: Map<number, LogicalUnit__Output>;
  readonly volumes: Map<string, ExtentMap>;

  constructor(generation: number, lus: Map<number, LogicalUnit__Output>, volumes: Map<string, ExtentMap>) {
    assert.ok(Number.isSafeInteger(generation) && generation >= 0);
    this.generation = generation;
    this.lus = lus;
    this.volumes = volumes;
  }

  static empty(): TableFace {
    return new TableFace(0, new Map(), new Map());
  }

  static fromTable(table: ConfigurationTable__Output): TableFace {
    const lus = new Map<number, LogicalUnit__Output>();
    for (const lu of table.lus) lus.set(lu.index, lu);
    const volumes = new Map<string, ExtentMap>();
    for (const volume of table.volumes) {
      const map = ExtentMap.fromTable(volume);
      assertRowsReferToKnownLus(map, lus);
      volumes.set(map.name, map);
    }
    return new TableFace(table.generation, lus, volumes);
  }

  /** A deep copy, so that writing a diff into it leaves this face untouched. */
  clone(): TableFace {
    const volumes = new Map<string, ExtentMap>();
    for (const [name, map] of this.volumes) volumes.set(name, map.clone());
    return new TableFace(this.generation, new Map(this.lus), volumes);
  }
}

function assertRowsReferToKnownLus(map: ExtentMap, lus: ReadonlyMap<number, LogicalUnit__Output>): void {
  for (let index = 0; index < map.extentCount; index += 1) {
    const lu = map.luIndex[index] ?? 0;
    assert.ok(lus.has(lu), `volume ${map.name} extent ${index} refers to unknown LU index ${lu}`);
  }
}

/** The two faces and which one is active. */
export class ConfigurationFaces {
  private faces: [TableFace, TableFace] = [TableFace.empty(), TableFace.empty()];
  private activeIndex: 0 | 1 = 0;

  get active(): TableFace {
    return this.faces[this.activeIndex];
  }

  get standby(): TableFace {
    return this.faces[this.activeIndex === 0 ? 1 : 0];
  }

  get activeFaceIndex(): 0 | 1 {
    return this.activeIndex;
  }

  /**
   * Loads a whole table (start-up, rejoin, volume create and delete): it is
   * written into the standby face, the faces flip, and the old face becomes a
   * copy of the new one, ready to take the next diff.
   */
  load(table: ConfigurationTable__Output): void {
    const face = TableFace.fromTable(table);
    this.installStandby(face);
    this.flip();
    this.installStandby(face.clone());
  }

  /** Puts `face` in the standby position; the active face is untouched. */
  installStandby(face: TableFace): void {
    const standbyIndex = this.activeIndex === 0 ? 1 : 0;
    this.faces[standbyIndex] = face;
  }

  /** Claim 13: the switch is one assignment. */
  flip(): void {
    this.activeIndex = this.activeIndex === 0 ? 1 : 0;
  }
}
