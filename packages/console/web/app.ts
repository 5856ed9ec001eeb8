/**
 * The web console page (claims 8, 19): draws each snapshot the server sends
 * over server-sent events, and posts the forms. Nothing is loaded from
 * anywhere but the appliance. EventSource reconnects by itself when the
 * server drops; while the controller does not answer (it is moving to
 * another apparatus) the server says so and the page keeps the last
 * snapshot on screen until a new one comes.
 */
import type { ChangeSnapshot, CoordinationSnapshot, EventsAnswer, FormAnswer, IoHistoryAnswer, LuSnapshot, Snapshot, VolumeSnapshot } from "../src/web/snapshot-types.js";
import { ChartBoard, element, MigrationCharts, renderHoldStrip } from "./charts.js";

/** LU colours, from style.css (--lu0 …); LUs past the palette reuse it. */
const luColoursCount = 8;
/** History rows shown, newest first: the journal keeps more than a screen needs. */
const historyRowsMax = 50;
/** Volume strips drawn per page: hundreds of volumes are searched and paged, not drawn at once. */
const volumeStripsPageMax = 20;
/** Between reads of the charts' data and the events: the server samples every 5 s (io-history.ts). */
const chartsPollMs = 5_000;
/** A poll that takes longer than this is given up; the next one tries again. */
const pollTimeoutMs = 4_000;

function byId(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found;
}

/** An element of the page that must be of `type` (a table, a select, a form). */
function byIdOf<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = byId(id);
  if (!(found instanceof type)) throw new Error(`#${id} is not a ${type.name}`);
  return found;
}

function row(cells: readonly (string | HTMLElement)[]): HTMLTableRowElement {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    if (typeof cell === "string") td.textContent = cell;
    else td.append(cell);
    tr.append(td);
  }
  return tr;
}

function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number.isInteger(value) ? String(value) : value.toFixed(1)} ${units[unit] ?? "B"}`;
}

function bar(fraction: number, className = "bar"): HTMLElement {
  const percent = String(Math.round(Math.min(1, Math.max(0, fraction)) * 100));
  const outer = element("div", "", { class: className, role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": percent });
  const inner = element("div");
  inner.style.width = `${percent}%`;
  outer.append(inner);
  return outer;
}

function stateBadge(state: string): HTMLElement {
  return element("span", state, { class: "state", "data-state": state });
}

/** Every LU in the cluster, in order: its position picks its colour. */
function allLus(snapshot: Snapshot): { readonly device: string; readonly lu: LuSnapshot }[] {
  // An external device (an NBD server) says so, and where it is, beside its name.
  return snapshot.cluster.devices.flatMap((device) => device.lus.map((lu) => ({ device: device.external ? `${device.id} (external, ${device.nbd_uri})` : device.id, lu })));
}

function luColour(luIds: readonly string[], lu: string): string {
  const index = luIds.indexOf(lu);
  return `var(--lu${(index < 0 ? luColoursCount - 1 : index) % luColoursCount})`;
}

/** "coordination etcd: 2/3 healthy, leader etcd0": the backend at a glance (cluster status lists each member). */
function coordinationText(coordination: CoordinationSnapshot): string {
  const healthy = coordination.members.filter((member) => member.healthy).length;
  const leader = coordination.members.find((member) => member.leader)?.name ?? "none";
  return `coordination ${coordination.backend}: ${healthy}/${coordination.members.length} healthy, leader ${leader}`;
}

function renderCluster(snapshot: Snapshot): void {
  const controller = snapshot.cluster.controller;
  const leading = controller === null ? "no controller" : `controller ${controller.id}, epoch ${controller.epoch}`;
  byId("controller").textContent = `${leading}   table generation ${snapshot.cluster.generation}   ${coordinationText(snapshot.cluster.coordination)}`;
  const lus = byIdOf("lus", HTMLTableElement).tBodies[0];
  lus?.replaceChildren(
    ...allLus(snapshot).map(({ device, lu }) => {
      const used = lu.areas_total - lu.areas_free;
      return row([device, lu.id, formatBytes(lu.size_bytes), `${formatBytes(used * lu.extent_size_bytes)} / ${formatBytes(lu.areas_free * lu.extent_size_bytes)}`, bar(lu.areas_total === 0 ? 0 : used / lu.areas_total)]);
    }),
  );
  const apparatuses = byIdOf("apparatuses", HTMLTableElement).tBodies[0];
  apparatuses?.replaceChildren(
    ...snapshot.cluster.apparatuses.map((apparatus) =>
      row([apparatus.id, stateBadge(apparatus.state), apparatus.nbd, apparatus.grpc, String(apparatus.pid), String(apparatus.generation)]),
    ),
  );
}

function strip(volume: VolumeSnapshot, luIds: readonly string[]): HTMLElement {
  const container = element("div", "", { class: "strip", "data-volume": volume.name });
  for (const run of volume.runs) {
    const last = run.first_extent + run.extent_count - 1;
    const extents = run.extent_count === 1 ? `extent ${run.first_extent}` : `extents ${run.first_extent}-${last}`;
    const block = element("div", "", {
      "data-lu": run.lu,
      "data-first-extent": String(run.first_extent),
      "data-extent-count": String(run.extent_count),
      title: `${extents}: ${run.lu} area ${run.first_area}${run.extent_count === 1 ? "" : `-${run.first_area + run.extent_count - 1}`}`,
    });
    block.style.flexGrow = String(run.extent_count);
    block.style.background = luColour(luIds, run.lu);
    container.append(block);
  }
  return container;
}

function renderVolumes(snapshot: Snapshot): void {
  const luIds = allLus(snapshot).map(({ lu }) => lu.id);
  byId("legend").replaceChildren(
    ...luIds.map((id) => {
      const entry = element("span", id);
      const swatch = element("span", "", { class: "swatch" });
      swatch.style.background = luColour(luIds, id);
      entry.prepend(swatch);
      return entry;
    }),
  );
  const search = byIdOf("volume-search", HTMLInputElement).value.trim();
  const matching = snapshot.volumes.filter((volume) => volume.name.includes(search));
  volumesOffset = Math.max(0, Math.min(volumesOffset, Math.floor(Math.max(0, matching.length - 1) / volumeStripsPageMax) * volumeStripsPageMax));
  const shown = matching.slice(volumesOffset, volumesOffset + volumeStripsPageMax);
  byId("volumes-range").textContent = matching.length === 0 ? "" : `${volumesOffset + 1}-${volumesOffset + shown.length} of ${matching.length}${search === "" ? "" : ` matching "${search}"`} (${snapshot.volumes.length} in all)`;
  const volumes = byId("volumes");
  if (shown.length === 0) {
    volumes.replaceChildren(element("p", snapshot.volumes.length === 0 ? "no volumes yet" : "no volume matches", { class: "empty" }));
    return;
  }
  volumes.replaceChildren(
    ...shown.map((volume) => {
      const truncated = volume.runs_truncated ? " (the map is too scattered to draw whole; the first runs are shown)" : "";
      const title = element("div", `${volume.name}: ${formatBytes(volume.size_bytes)}, ${volume.extent_count} extents of ${formatBytes(volume.extent_size_bytes)}${truncated}`, { class: "volume-title" });
      const box = element("div", "", { class: "volume" });
      box.append(title, strip(volume, luIds));
      return box;
    }),
  );
}

/** Keeps a select's choice across updates, when the choice still exists. */
function setOptions(select: HTMLSelectElement, values: readonly string[], keepFirst: boolean): void {
  const chosen = select.value;
  const fixed = keepFirst ? Array.from(select.options).slice(0, 1) : [];
  select.replaceChildren(...fixed, ...values.map((value) => element("option", value, { value })));
  if ([...fixed.map((option) => option.value), ...values].includes(chosen)) select.value = chosen;
}

function renderFormChoices(snapshot: Snapshot): void {
  const luIds = allLus(snapshot).map(({ lu }) => lu.id);
  setOptions(byIdOf("create-lu", HTMLSelectElement), luIds, true);
  setOptions(byIdOf("move-to", HTMLSelectElement), luIds, false);
  setOptions(byIdOf("move-volume", HTMLSelectElement), snapshot.volumes.map((volume) => volume.name), false);
  setOptions(byIdOf("migrate-to", HTMLSelectElement), luIds, false);
  setOptions(byIdOf("migrate-volume", HTMLSelectElement), snapshot.volumes.map((volume) => volume.name), false);
  // Cancel stays offered while the migration this page started runs.
  const started = byIdOf("migrate-id", HTMLInputElement).value;
  byIdOf("migrate-cancel", HTMLButtonElement).disabled = !snapshot.changes.some((change) => change.id === started && change.state === "running");
}

/** A copy's progress: by bytes when the controller reports them, else by whether its copy phase has ended. */
function copyProgress(change: ChangeSnapshot): HTMLElement | undefined {
  if (change.total_bytes > 0) return bar(change.copied_bytes / change.total_bytes, "bar progress");
  const copyIndex = change.phases.findIndex((phase) => phase.phase === "copy");
  if (copyIndex < 0) return undefined;
  return change.phase === "copy" ? bar(0, "bar progress indeterminate") : bar(1, "bar progress");
}

function runningChange(change: ChangeSnapshot): HTMLElement {
  const box = element("div", "", { class: "change", "data-change-id": change.id, "data-state": change.state });
  box.append(element("div", `${change.id}: ${change.summary} (epoch ${change.epoch}, from generation ${change.base_generation})`));
  const phases = element("div", "", { class: "phases" });
  for (const phase of change.phases) {
    const current = phase.phase === change.phase;
    phases.append(element("span", current ? `${phase.phase}…` : `${phase.phase} ${phase.elapsed_ms} ms`, current ? { class: "current" } : {}));
  }
  box.append(phases);
  const progress = copyProgress(change);
  if (progress !== undefined) box.append(element("div", "copy", { class: "note" }), progress);
  const reports = element("table");
  reports.append(row(["phase", "apparatus", "ok", "ms", "report"]));
  for (const report of change.reports) reports.append(row([report.phase, report.apparatus, report.ok ? "yes" : "no", String(report.elapsed_ms), report.message]));
  box.append(reports);
  return box;
}

function renderChanges(snapshot: Snapshot): void {
  const running = snapshot.changes.filter((change) => change.state === "running");
  byId("running").replaceChildren(...(running.length === 0 ? [element("p", "none", { class: "empty" })] : running.map(runningChange)));
  const finished = snapshot.changes.filter((change) => change.state !== "running").reverse().slice(0, historyRowsMax);
  byIdOf("history", HTMLTableElement).tBodies[0]?.replaceChildren(
    ...finished.map((change) => {
      const took = change.ended_at === null ? "" : `${Date.parse(change.ended_at) - Date.parse(change.started_at)} ms`;
      const phases = change.phases.map((phase) => `${phase.phase} ${phase.elapsed_ms}`).join(", ");
      const tr = row([change.id, stateBadge(change.state), change.message === "" ? change.summary : `${change.summary}: ${change.message}`, new Date(change.started_at).toLocaleTimeString(), took, phases, change.fenced.join(", ")]);
      tr.dataset.changeId = change.id;
      tr.dataset.state = change.state;
      return tr;
    }),
  );
}

function render(snapshot: Snapshot): void {
  lastSnapshot = snapshot;
  renderCluster(snapshot);
  renderVolumes(snapshot);
  renderFormChoices(snapshot);
  renderChanges(snapshot);
  migrationCharts.show(snapshot.changes, Date.parse(snapshot.at));
  renderHoldStrip(byId("hold-strip"), snapshot.changes, holdDeadlineMs);
}

/** The first strip shown of the volumes that match the search. */
let volumesOffset = 0;
/** The first volume chart shown, as the server pages them. */
let volumeChartsOffset = 0;
/** Volume charts per page, as the server last said (io-history.ts volumeChartsPageMax). */
let volumeChartsPageSize = 1;
let lastSnapshot: Snapshot | undefined;
/** Until the first charts answer says otherwise: the apparatus's default (apparatus.ts holdDeadlineMsDefault). */
let holdDeadlineMs = 0;
const apparatusCharts = new ChartBoard(byId("apparatus-charts"), "apparatus");
const volumeCharts = new ChartBoard(byId("volume-charts"), "volume");
const migrationCharts = new MigrationCharts(byId("migration-charts"));

/** The session's role and the CSRF token every form sends back (GET api/session), once read. */
let session: { readonly role: string; readonly csrf: string } | undefined;

/** The session ended (logged out elsewhere, or the console restarted): the login page opens a new one. */
function toLogin(): void {
  window.location.assign("login");
}

async function getJson<T>(path: string): Promise<T | undefined> {
  try {
    const response = await fetch(path, { signal: AbortSignal.timeout(pollTimeoutMs) });
    if (response.status === 401) toLogin();
    return response.ok ? ((await response.json()) as T) : undefined;
  } catch {
    // The console server is restarting: the next poll tries again, and the connection line already says so.
    return undefined;
  }
}

async function pollCharts(): Promise<void> {
  const search = byIdOf("volume-search", HTMLInputElement).value.trim();
  const answer = await getJson<IoHistoryAnswer>(`api/io-history?search=${encodeURIComponent(search)}&offset=${volumeChartsOffset}`);
  if (answer === undefined) return;
  holdDeadlineMs = answer.hold_deadline_ms;
  byId("hold-strip-note").textContent = `(red: held ${answer.hold_deadline_ms / 1000} s or more, the hold deadline)`;
  apparatusCharts.show(answer, answer.apparatuses);
  volumeChartsOffset = answer.volumes.offset;
  volumeChartsPageSize = answer.volumes.page_size;
  const { matched, offset, items } = answer.volumes;
  byId("volume-charts-range").textContent = matched === 0 ? "" : `${offset + 1}-${offset + items.length} of ${matched} with I/O; one sample every ${answer.sample_interval_ms / 1000} s`;
  volumeCharts.show(answer, items);
}

function eventRow(event: EventsAnswer["events"][number]): HTMLTableRowElement {
  const tr = row([new Date(event.at).toLocaleString(), event.kind, event.subject, event.cause, event.source]);
  tr.dataset.kind = event.kind;
  tr.dataset.source = event.source;
  return tr;
}

async function pollEvents(): Promise<void> {
  const answer = await getJson<EventsAnswer>("api/events");
  if (answer === undefined) return;
  byId("events-note").textContent = answer.journal_readable ? "" : "the controller did not answer: only events this console observed are listed";
  byIdOf("events", HTMLTableElement).tBodies[0]?.replaceChildren(...(answer.events.length === 0 ? [row(["", "none yet", "", "", ""])] : answer.events.map(eventRow)));
}

function pollEvery(): void {
  void pollCharts();
  void pollEvents();
}

/** The search and pager buttons: a new search starts from the first page of both strips and charts. */
function wirePaging(): void {
  byId("volume-search").addEventListener("input", () => {
    volumesOffset = 0;
    volumeChartsOffset = 0;
    if (lastSnapshot !== undefined) render(lastSnapshot);
    void pollCharts();
  });
  const step = (button: string, change: () => void): void => {
    byId(button).addEventListener("click", () => {
      change();
      if (lastSnapshot !== undefined) render(lastSnapshot);
      void pollCharts();
    });
  };
  step("volumes-previous", () => { volumesOffset = Math.max(0, volumesOffset - volumeStripsPageMax); });
  step("volumes-next", () => { volumesOffset += volumeStripsPageMax; });
  step("volume-charts-previous", () => { volumeChartsOffset = Math.max(0, volumeChartsOffset - volumeChartsPageSize); });
  step("volume-charts-next", () => { volumeChartsOffset += volumeChartsPageSize; });
}

function setConnection(state: "connecting" | "live" | "unavailable", text: string): void {
  const indicator = byId("connection");
  indicator.dataset.state = state;
  indicator.textContent = text;
}

function follow(): void {
  const events = new EventSource("events");
  events.addEventListener("snapshot", (event) => {
    setConnection("live", "live");
    render(JSON.parse((event as MessageEvent<string>).data) as Snapshot);
  });
  events.addEventListener("unavailable", (event) => {
    const { message } = JSON.parse((event as MessageEvent<string>).data) as { message: string };
    setConnection("unavailable", `controller unavailable, reconnecting… (${message})`);
  });
  events.addEventListener("error", () => {
    setConnection("connecting", "console server unreachable, reconnecting…");
  });
}

async function post(path: string, fields: Record<string, string>): Promise<FormAnswer> {
  try {
    const response = await fetch(path, { method: "POST", headers: { "content-type": "application/json", "x-csrf-token": session?.csrf ?? "" }, body: JSON.stringify(fields) });
    if (response.status === 401) toLogin();
    return (await response.json()) as FormAnswer;
  } catch (error: unknown) {
    return { ok: false, error: `the console server did not answer: ${String(error)}` };
  }
}

/** A form's answer is good when the request was taken and its change, if any, committed or is under way. */
function answeredWell(answer: FormAnswer): boolean {
  return answer.ok && (answer.change === undefined || answer.change.state === "committed" || answer.change.state === "running");
}

/** Posts `form`'s fields to `path` on `trigger`, shows the answer, and hands it to `then`. */
function wireForm(formId: string, resultId: string, path: string, then: (answer: FormAnswer) => void = () => undefined, trigger?: HTMLButtonElement): void {
  const form = byIdOf(formId, HTMLFormElement);
  const result = byId(resultId);
  const send = (button: HTMLButtonElement | null): void => {
    const fields: Record<string, string> = {};
    for (const [name, value] of new FormData(form)) if (typeof value === "string") fields[name] = value;
    if (button !== null) button.disabled = true;
    result.dataset.ok = "";
    result.textContent = "working…";
    void post(path, fields).then((answer) => {
      if (button !== null) button.disabled = false;
      result.dataset.ok = String(answeredWell(answer));
      result.textContent = answer.ok ? answer.message : answer.error;
      then(answer);
    });
  };
  if (trigger !== undefined) {
    trigger.addEventListener("click", () => {
      send(trigger);
    });
    return;
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(form.querySelector("button"));
  });
}

/** Shows who is logged in and wires the logout button; a viewer's forms are disabled (the server refuses them anyway). */
async function startSession(): Promise<void> {
  session = await getJson<{ role: string; csrf: string }>("api/session");
  if (session === undefined) return;
  byId("session-role").textContent = session.role;
  if (session.role !== "operator") {
    for (const button of document.querySelectorAll<HTMLButtonElement>("form button")) button.disabled = true;
    byId("session-role").title = "a viewer may look but not change";
  }
  byIdOf("logout", HTMLButtonElement).addEventListener("click", () => {
    void fetch("logout", { method: "POST", headers: { "x-csrf-token": session?.csrf ?? "" } }).finally(toLogin);
  });
}

void startSession();
wireForm("create-form", "create-result", "api/volumes");
wireForm("move-form", "move-result", "api/moves");
wireForm("migrate-form", "migrate-result", "api/migrations", (answer) => {
  if (answer.ok && answer.change !== undefined) byIdOf("migrate-id", HTMLInputElement).value = answer.change.id;
});
wireForm("migrate-form", "migrate-result", "api/migrations/cancel", () => undefined, byIdOf("migrate-cancel", HTMLButtonElement));
follow();
wirePaging();
pollEvery();
setInterval(pollEvery, chartsPollMs);
