// Fork form, enhanced: says at once whether the chosen licence may carry the fork.
// The server's rule answers (GET /fork/check); it decides again when the form is sent.

const form = document.getElementById("fork-form");
const status = document.getElementById("fork-check");
let latest = 0;
let typing = null;

function chosenLicence() {
  const picked = form.querySelector('input[name="licence"]:checked');
  if (!picked) {
    return "";
  }
  return picked.value === "other" ? form.elements.licence_other.value.trim() : picked.value;
}

function otherIsEmpty() {
  const picked = form.querySelector('input[name="licence"]:checked');
  return picked && picked.value === "other" && !form.elements.licence_other.value.trim();
}

async function check() {
  const asked = ++latest;
  if (otherIsEmpty()) {
    status.textContent = "Type an SPDX licence expression to check it.";
    status.className = "";
    return;
  }
  const query = new URLSearchParams({ from: form.elements.from.value, licence: chosenLicence() });
  status.textContent = "Checking the licence…";
  try {
    const response = await fetch(`/fork/check?${query}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const answer = await response.json();
    if (asked !== latest) {
      return; // a newer choice is being checked
    }
    status.textContent = answer.ok
      ? "Compatible: this licence may carry the fork."
      : `Not compatible: ${answer.reason}`;
    status.className = answer.ok ? "ok" : "refused";
  } catch {
    if (asked === latest) {
      status.textContent = "The licence cannot be checked now; it is checked when you publish.";
      status.className = "";
    }
  }
}

if (form && status) {
  form.addEventListener("change", (event) => {
    if (event.target.name === "licence") {
      check();
    }
  });
  form.elements.licence_other.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(check, 400);
  });
  check();
}
