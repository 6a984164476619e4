// stormwatch dashboard: small enhancements; every action works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons next to secrets and commands.
  for (const b of document.querySelectorAll("[data-copy]")) {
    b.hidden = false;
    b.addEventListener("click", () => {
      const el = document.getElementById(b.dataset.copy);
      navigator.clipboard.writeText(el.textContent.trim()).then(() => { b.textContent = "Copied"; });
    });
  }
  // Live parts (the overview's nodes and attacks) refresh in place.
  for (const el of document.querySelectorAll("[data-live]")) {
    const refresh = async () => {
      try {
        const res = await fetch(el.dataset.live, { credentials: "same-origin", headers: { "Accept": "text/html" } });
        if (res.ok) { el.innerHTML = await res.text(); el.dataset.refreshed = String(Date.now()); }
      } catch (e) { /* the next tick tries again */ }
    };
    setInterval(refresh, 5000);
  }
  // Branding preview follows the form as it is edited.
  const form = document.getElementById("branding-form");
  if (form) {
    const bar = document.querySelector(".preview .bar");
    const title = document.getElementById("preview-title");
    const update = () => {
      bar.style.background = form.brand_color.value;
      title.textContent = form.page_title.value || form.dataset.name;
    };
    form.addEventListener("input", update);
    const logo = form.querySelector("input[name=logo]");
    logo.addEventListener("change", () => {
      const f = logo.files[0];
      const img = document.getElementById("preview-logo");
      if (f && img) { img.src = URL.createObjectURL(f); img.hidden = false; }
    });
    update();
  }
  // Ask before destructive posts.
  for (const f of document.querySelectorAll("form[data-confirm]")) {
    f.addEventListener("submit", (e) => { if (!confirm(f.dataset.confirm)) e.preventDefault(); });
  }
});
