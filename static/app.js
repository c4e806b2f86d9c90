// Progressive enhancement only: every page works without this file.
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", () => {
  // On a phone the menu folds behind a button in the top bar (without this script it
  // stays unfolded under the bar).
  const menuButton = document.querySelector(".menu-button");
  const sidebarBody = document.getElementById("sidebar-body");
  const narrow = window.matchMedia("(max-width: 800px)");
  if (menuButton && sidebarBody) {
    menuButton.hidden = false;
    menuButton.addEventListener("click", () => {
      const open = sidebarBody.classList.toggle("open");
      menuButton.setAttribute("aria-expanded", String(open));
    });
    const companyMenu = document.querySelector("details.company-menu");
    if (narrow.matches && companyMenu) companyMenu.open = false;
  }
  for (const button of document.querySelectorAll("[data-copy-button]")) {
    const source = button.parentElement.querySelector("[data-copy-source]");
    if (!source || !navigator.clipboard) continue;
    button.hidden = false;
    const label = button.textContent;
    button.addEventListener("click", async () => {
      await navigator.clipboard.writeText(source.value);
      button.textContent = "Copied";
      setTimeout(() => (button.textContent = label), 2000);
    });
  }
  // Close the company menu with Escape, returning focus to the logo.
  const menu = document.querySelector("details.company-menu");
  if (menu) {
    menu.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  }
  // Timer buttons come back to the page they were pressed on.
  for (const input of document.querySelectorAll("input[data-back]")) {
    input.value = window.location.pathname + window.location.search;
  }
  // The running timer ticks; without this script it shows the time as of the page load.
  const elapsed = document.querySelector("[data-timer-since]");
  if (elapsed) {
    const since = Number(elapsed.dataset.timerSince);
    const skew = Number(elapsed.dataset.timerNow) - Date.now() / 1000;
    const tick = () => {
      const secs = Math.max(0, Math.floor(Date.now() / 1000 + skew - since));
      const pad = (n) => String(n).padStart(2, "0");
      elapsed.textContent = `${Math.floor(secs / 3600)}:${pad(Math.floor(secs / 60) % 60)}:${pad(secs % 60)}`;
    };
    tick();
    setInterval(tick, 1000);
  }
  // Posts that lose something ask first; the server asks on a page of its own when
  // this script does not run.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
        return;
      }
      if (!form.querySelector("input[name=confirmed]")) {
        const confirmed = document.createElement("input");
        confirmed.type = "hidden";
        confirmed.name = "confirmed";
        confirmed.value = "yes";
        form.append(confirmed);
      }
    });
  }

  // My Tasks' filter bar applies as you type or choose: the list is fetched and swapped
  // in place (the address follows, so a reload or a shared link shows the same list).
  // Without this script the Apply button does the same with a page load.
  let pending;
  let latest = 0;
  const filterFormOf = (event) => event.target.closest && event.target.closest("form[data-filter-form]");
  {
    const apply = async (filterForm) => {
      const query = new URLSearchParams(new FormData(filterForm));
      for (const [key, value] of [...query]) if (!value) query.delete(key);
      const url = `${filterForm.action}${query.size ? "?" + query : ""}`;
      const ticket = ++latest;
      const response = await fetch(url, { credentials: "same-origin" });
      if (ticket !== latest || !response.ok) return;
      const html = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = html.getElementById("task-results");
      const current = document.getElementById("task-results");
      if (fresh && current) current.replaceWith(fresh);
      history.replaceState(null, "", url);
    };
    // Listened for on the document: "Sync now" swaps in a fresh filter bar.
    document.addEventListener("change", (event) => {
      const form = filterFormOf(event);
      if (form) apply(form);
    });
    document.addEventListener("input", (event) => {
      const form = filterFormOf(event);
      if (!form || event.target.type !== "search") return;
      clearTimeout(pending);
      pending = setTimeout(() => apply(form), 300);
    });
    document.addEventListener("submit", (event) => {
      const form = filterFormOf(event);
      if (!form) return;
      event.preventDefault();
      apply(form);
    });
  }

  // "Sync now" without reloading the page: start, show progress, then swap in the fresh list.
  const syncForm = document.querySelector("form[data-sync-form]");
  const progress = document.querySelector("[data-sync-progress]");
  if (syncForm && progress) {
    const refreshList = async () => {
      const response = await fetch(window.location.href, { credentials: "same-origin" });
      const html = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const id of ["sync-status", "task-filters", "task-results"]) {
        const fresh = html.getElementById(id);
        const current = document.getElementById(id);
        if (fresh && current) current.replaceWith(fresh);
      }
    };
    const poll = async () => {
      const button = syncForm.querySelector("button");
      button.setAttribute("aria-busy", "true");
      button.disabled = true;
      for (let i = 0; i < 600; i++) {
        const response = await fetch("/tasks/sync/status", { credentials: "same-origin" });
        if (!response.ok) break;
        const status = await response.json();
        const live = document.querySelector("[data-sync-progress]");
        if (live) { live.hidden = false; live.textContent = status.text; }
        if (!status.running) break;
        await new Promise((resolve) => setTimeout(resolve, 800));
      }
      await refreshList();
      button.removeAttribute("aria-busy");
      button.disabled = false;
    };
    syncForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const live = document.querySelector("[data-sync-progress]");
      if (live) { live.hidden = false; live.textContent = "Sync starting…"; }
      await fetch(syncForm.action, { method: "POST", body: new FormData(syncForm), credentials: "same-origin" });
      await poll();
    });
    if (!progress.hidden) poll();
  }
});
