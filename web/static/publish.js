// Publishing form, enhanced: an upload progress bar and a live Markdown preview.
// Without this script the form posts as usual and the Preview button opens the preview page.

const form = document.getElementById("publish-form");

function csrfValue() {
  return form.elements.csrf_token.value;
}

function showError(message) {
  let alert = document.getElementById("publish-error");
  if (!alert) {
    alert = document.createElement("p");
    alert.id = "publish-error";
    alert.setAttribute("role", "alert");
    form.before(alert);
  }
  alert.textContent = message;
  alert.scrollIntoView({ block: "center" });
}

function errorText(xhr) {
  const type = xhr.getResponseHeader("content-type") || "";
  if (type.startsWith("application/json")) {
    try {
      return JSON.parse(xhr.responseText).error;
    } catch {
      return null;
    }
  }
  const page = new DOMParser().parseFromString(xhr.responseText, "text/html");
  const fresh = page.querySelector('#publish-form input[name="csrf_token"]');
  if (fresh) {
    form.elements.csrf_token.value = fresh.value; // so that sending again works
  }
  const alert = page.querySelector('[role="alert"]');
  return alert ? alert.textContent.trim() : null;
}

function upload() {
  const progress = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const button = document.getElementById("publish-button");
  const xhr = new XMLHttpRequest();
  xhr.open("POST", form.action);
  xhr.upload.onprogress = (event) => {
    if (event.lengthComputable) {
      progress.value = Math.round((event.loaded / event.total) * 100);
      status.textContent = `Uploading… ${progress.value}%`;
    }
  };
  xhr.onload = () => {
    button.disabled = false;
    if (xhr.status < 400 && xhr.responseURL) {
      status.textContent = "Published.";
      window.location.assign(xhr.responseURL); // the new version's page
      return;
    }
    progress.hidden = true;
    status.textContent = "";
    showError(errorText(xhr) || `The server refused the upload (HTTP ${xhr.status}).`);
  };
  xhr.onerror = () => {
    button.disabled = false;
    progress.hidden = true;
    status.textContent = "";
    showError("The upload did not reach the server: check your connection and send it again.");
  };
  progress.value = 0;
  progress.hidden = false;
  button.disabled = true;
  xhr.send(new FormData(form));
}

async function preview() {
  const target = document.getElementById("preview");
  const body = new URLSearchParams();
  body.set("markdown", form.elements.description.value);
  body.set("csrf_token", csrfValue());
  try {
    const response = await fetch("/preview", {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    });
    if (!response.ok) {
      target.textContent = `The preview is not available now (HTTP ${response.status}).`;
      return;
    }
    // Sanitised by the server (nh3), exactly as the version page will show it.
    target.innerHTML = await response.text();
  } catch {
    target.textContent = "The preview is not available now: check your connection.";
  }
}

if (form) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (event.submitter && event.submitter.id === "preview-button") {
      preview();
    } else {
      upload();
    }
  });
}
