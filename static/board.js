// The bed board refreshes itself (htmx polling). This marks the pools whose free beds
// changed since the refresh before, and says which in one polite status line, so that a
// screen reader hears what changed instead of the whole table again.
(function () {
  "use strict";
  let before = null;

  function freeCounts(board) {
    const counts = new Map();
    board.querySelectorAll("tr[data-pool]").forEach((row) => {
      const free = row.querySelector("[data-free]");
      counts.set(row.dataset.pool, free ? free.dataset.free : null);
    });
    return counts;
  }

  document.addEventListener("htmx:before:swap", () => {
    const board = document.getElementById("board");
    before = board ? freeCounts(board) : null;
  });

  document.addEventListener("htmx:after:swap", () => {
    const board = document.getElementById("board");
    const news = document.getElementById("board-news");
    if (!board || !news || before === null) {
      return;
    }
    const changed = [];
    board.querySelectorAll("tr[data-pool]").forEach((row) => {
      const free = row.querySelector("[data-free]");
      const was = before.get(row.dataset.pool);
      const isChanged = was !== undefined && free !== null && was !== free.dataset.free;
      row.classList.toggle("changed", isChanged);
      if (isChanged && free.parentElement.querySelector(".changed-tag") === null) {
        const tag = document.createElement("span");
        tag.className = "changed-tag";
        tag.textContent = news.dataset.tag;
        free.parentElement.append(" ", tag);
      }
      if (isChanged) {
        changed.push(news.dataset.row.replace("%(pool)s", row.dataset.name).replace("%(free)s", free.dataset.free));
      }
    });
    before = null;
    news.textContent = changed.length ? news.dataset.changed.replace("%(list)s", changed.join("; ")) : "";
  });
})();

// A poll of a board that has not changed gets 204 and an HX-Trigger "boardChecked": the
// numbers stand, so only the time they were last checked moves on.
document.addEventListener("boardChecked", (event) => {
  "use strict";
  const checked = document.getElementById("board-checked");
  if (checked && event.detail && event.detail.at) {
    checked.textContent = event.detail.at;
    checked.setAttribute("datetime", event.detail.datetime);
  }
});
