// The console: Optimize's entity list with an Export action per entity, and "Import JSON" (a dry run first,
// then the import). Every call goes to Optimize's paths on this origin (the gateway routes them).
"use strict";

const TOKEN_KEY = "optimize-console-token";
const state = { token: sessionStorage.getItem(TOKEN_KEY) || "", collectionId: null, collectionName: null,
                pending: null };
const $ = (selector) => document.querySelector(selector);

class ApiError extends Error {
  constructor(status, body) {
    const parsed = body && typeof body === "object" ? body
      : { errorCode: "unexpectedResponse", errorMessage: `The server answered HTTP ${status}` };
    super(parsed.errorMessage || `HTTP ${status}`);
    this.status = status;
    this.body = parsed;
  }
}

async function api(method, path, { body, headers } = {}) {
  const response = await fetch(path, {
    method, body,
    headers: { Accept: "application/json", Authorization: `Bearer ${state.token}`, ...(headers || {}) },
  });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!response.ok) throw new ApiError(response.status, data);
  return { data, response };
}

function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function newIdempotencyKey() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(16)}-${Math.random().toString(16).slice(2)}`;
}

// --- messages ----------------------------------------------------------------------------------------

function clearMessages() {
  $("#notice").hidden = true;
  $("#error").hidden = true;
  $("#error").replaceChildren();
}

function showNotice(text) {
  $("#notice").textContent = text;
  $("#notice").hidden = false;
}

function definitionLine(definition) {
  const versions = (definition.versions || []).join(", ") || "-";
  const tenants = (definition.tenantIds || []).map((t) => (t === null ? "no tenant" : t)).join(", ") || "-";
  const item = element("li");
  item.append(`${definition.type} definition `, element("code", definition.key),
               ` (versions: ${versions}; tenants: ${tenants})`);
  return item;
}

// As Optimize's import error dialog: the message, then what each failing check names.
function showError(error, title) {
  const box = $("#error");
  box.replaceChildren(element("h3", title));
  const body = error instanceof ApiError ? error.body : { errorMessage: String(error) };
  box.append(element("p", body.errorMessage, { class: "message" }));
  if (error instanceof ApiError && error.status === 401) {
    box.append(element("p", "Sign in with a valid token (make token USER=demo prints one)."));
  }
  const categories = body.errors && body.errors.length ? body.errors : [body];
  for (const category of categories) {
    const section = element("section", null, { "data-error-code": category.errorCode || "" });
    if (categories.length > 1) section.append(element("h4", category.errorMessage));
    const list = element("ul");
    (category.definitions || []).forEach((d) => list.append(definitionLine(d)));
    (category.validationErrors || []).forEach((problem) => {
      const entity = problem.entityId ? `entity ${problem.entityId}` : "the file";
      list.append(element("li", `${entity}${problem.path ? ` at ${problem.path}` : ""}: ${problem.message}`));
    });
    (category.mismatchingIndices || []).forEach((index) => list.append(element("li",
      `${index.indexName}: file version ${index.sourceIndexVersion}, this installation reads up to ` +
      `${index.targetIndexVersion}`)));
    (category.conflictedItems || []).forEach((item) => list.append(element("li",
      `${item.type} "${item.name || item.id}"`)));
    (category.entities || []).filter((e) => e && typeof e === "object").forEach((entity) => list.append(
      element("li", `${entity.exportEntityType || "entity"} "${entity.name}" (id ${entity.id} in the file)`)));
    if (list.children.length) section.append(list);
    if (section.children.length) box.append(section);
  }
  const requestId = body.requestId;
  if (requestId) box.append(element("p", `Request id: ${requestId}`, { class: "request-id" }));
  box.hidden = false;
}

// --- places and the entity list ---------------------------------------------------------------------

function placeFromHash() {
  const match = location.hash.match(/^#collection=(.+)$/);
  return match ? decodeURIComponent(match[1]) : null;
}

async function listEntities(path) {
  let items = [];
  let cursor = null;
  do {
    const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
    const { data, response } = await api("GET", path + query);
    items = items.concat(data);
    cursor = response.headers.get("X-Next-Cursor");
  } while (cursor);
  return items;
}

function renderPlaces(collections) {
  const places = $("#places");
  places.replaceChildren(places.firstElementChild);
  for (const [id, name] of collections) {
    const link = element("a", name, { href: `#collection=${encodeURIComponent(id)}` });
    const item = element("li");
    item.append(link);
    places.append(item);
  }
  for (const link of places.querySelectorAll("a")) {
    const current = state.collectionId ? link.getAttribute("href") === `#collection=${encodeURIComponent(state.collectionId)}`
      : link.dataset.place === "private";
    if (current) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
}

async function collectionName(id) {
  try {
    return (await api("GET", `/api/collection/${encodeURIComponent(id)}`)).data.name || id;
  } catch {
    return id;
  }
}

function entityTypeLabel(entity) {
  if (entity.entityType === "dashboard") return "Dashboard";
  const kind = entity.combined ? "Combined report" : "Report";
  return entity.reportType ? `${kind} (${entity.reportType})` : kind;
}

function renderEntities(entities) {
  const body = $("#entities tbody");
  body.replaceChildren();
  for (const entity of entities) {
    const row = element("tr", null, { "data-entity-id": entity.id, "data-entity-type": entity.entityType });
    const exportButton = element("button", "Export", { type: "button", "aria-label": `Export ${entity.name}` });
    exportButton.addEventListener("click", () => exportEntity(entity));
    const actions = element("td", null, { class: "actions" });
    actions.append(exportButton);
    row.append(element("td", entity.name, { class: "name" }), element("td", entityTypeLabel(entity)),
               element("td", entity.lastModified || ""), element("td", entity.owner || ""), actions);
    body.append(row);
  }
  $("#empty").hidden = entities.length > 0;
}

async function load() {
  state.collectionId = placeFromHash();
  $("#token").value = state.token;
  if (!state.token) {
    showError(new ApiError(401, { errorCode: "unauthorizedError", errorMessage: "Not signed in" }),
              "Sign in first");
    return;
  }
  try {
    const everything = await listEntities("/api/entities");
    const ids = [...new Set(everything.map((e) => e.collectionId).filter(Boolean))];
    if (state.collectionId && !ids.includes(state.collectionId)) ids.unshift(state.collectionId);
    const names = await Promise.all(ids.map(collectionName));
    const collections = ids.map((id, i) => [id, names[i]]);
    state.collectionName = state.collectionId ? names[ids.indexOf(state.collectionId)] : null;
    renderPlaces(collections);
    $("#place-title").textContent = state.collectionId ? `Collection: ${state.collectionName}` : "Private entities";
    const shown = state.collectionId
      ? await listEntities(`/api/collection/${encodeURIComponent(state.collectionId)}/entities`)
      : everything.filter((e) => !e.collectionId);
    renderEntities(shown);
  } catch (error) {
    showError(error, "The entities could not be listed");
  }
}

// --- export ------------------------------------------------------------------------------------------

async function exportEntity(entity) {
  clearMessages();
  const fileName = `${(entity.name || entity.id).replace(/[^\w.-]+/g, "_")}.json`;
  const path = `/api/export/${entity.entityType}/json/${encodeURIComponent(entity.id)}/${encodeURIComponent(fileName)}`;
  try {
    const response = await fetch(path, { headers: { Authorization: `Bearer ${state.token}` } });
    if (!response.ok) {
      const text = await response.text();
      let body = null;
      try { body = JSON.parse(text); } catch { body = null; }
      throw new ApiError(response.status, body);
    }
    const url = URL.createObjectURL(await response.blob());
    const link = element("a", null, { href: url, download: fileName });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 30000);
    showNotice(`Exported "${entity.name}" as ${fileName}`);
  } catch (error) {
    showError(error, `"${entity.name}" could not be exported`);
  }
}

// --- import: a dry run first, then the import -------------------------------------------------------

function importPath(dryRun) {
  const query = new URLSearchParams();
  if (state.collectionId) query.set("collectionId", state.collectionId);
  if (dryRun) query.set("dryRun", "true");
  const text = query.toString();
  return `/api/import${text ? `?${text}` : ""}`;
}

function where() {
  return state.collectionId ? `into collection "${state.collectionName}"` : "as private entities";
}

async function previewImport(fileName, text) {
  clearMessages();
  $("#preview").hidden = true;
  let fileEntities = [];
  try { fileEntities = JSON.parse(text); } catch { fileEntities = []; }
  const namesById = new Map((Array.isArray(fileEntities) ? fileEntities : [])
    .filter((e) => e && typeof e === "object").map((e) => [e.id, e.name]));
  try {
    const { data } = await api("POST", importPath(true), { body: text, headers: { "Content-Type": "application/json" } });
    state.pending = { fileName, text, key: newIdempotencyKey() };
    $("#preview-title").textContent = `Import ${data.length} entities from ${fileName} ${where()}?`;
    const body = $("#preview tbody");
    body.replaceChildren();
    for (const item of data) {
      body.append(rowOf([namesById.get(item.sourceId) || item.sourceId, item.entityType,
                         item.upgradedFrom ?? "-", (item.warnings || []).join("; ") || "-"]));
    }
    $("#preview").hidden = false;
  } catch (error) {
    showError(error, `${fileName} cannot be imported ${where()}`);
  }
}

function rowOf(cells) {
  const row = element("tr");
  cells.forEach((cell) => row.append(element("td", cell)));
  return row;
}

async function confirmImport() {
  const pending = state.pending;
  if (!pending) return;
  clearMessages();
  $("#confirm-import").disabled = true;
  try {
    const { data } = await api("POST", importPath(false), {
      body: pending.text,
      headers: { "Content-Type": "application/json", "Idempotency-Key": pending.key },
    });
    state.pending = null;
    $("#preview").hidden = true;
    await load();
    showNotice(`Imported ${data.length} entities from ${pending.fileName} ${where()}.`);
  } catch (error) {
    showError(error, `${pending.fileName} was not imported`);
  } finally {
    $("#confirm-import").disabled = false;
  }
}

// --- wiring ------------------------------------------------------------------------------------------

$("#sign-in").addEventListener("submit", (event) => {
  event.preventDefault();
  state.token = $("#token").value.trim();
  sessionStorage.setItem(TOKEN_KEY, state.token);
  clearMessages();
  load();
});
$("#open-collection").addEventListener("submit", (event) => {
  event.preventDefault();
  const id = $("#collection-id").value.trim();
  if (id) location.hash = `collection=${encodeURIComponent(id)}`;
});
$("#import-button").addEventListener("click", () => $("#import-file").click());
$("#import-file").addEventListener("change", async () => {
  const file = $("#import-file").files[0];
  if (!file) return;
  const text = await file.text();
  $("#import-file").value = "";
  await previewImport(file.name, text);
});
$("#confirm-import").addEventListener("click", confirmImport);
$("#cancel-import").addEventListener("click", () => {
  state.pending = null;
  $("#preview").hidden = true;
});
window.addEventListener("hashchange", () => { clearMessages(); $("#preview").hidden = true; load(); });
load();
