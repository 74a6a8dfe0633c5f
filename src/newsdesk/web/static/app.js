// newsdesk web UI: the only script the page runs (its Content-Security-Policy
// allows no other). Everything works without it; it adds upload progress.
"use strict";

function text(el, value) { el.textContent = value; }  // never innerHTML: names come from articles

function pollJob(id, done) {
  fetch("/api/jobs/" + encodeURIComponent(id), {headers: {"Accept": "application/json"}})
    .then(function (r) { return r.json(); })
    .then(function (job) {
      const bar = document.getElementById("ingest-bar");
      bar.max = Math.max(job.inputs, 1);
      bar.value = job.inputs_done;
      text(document.getElementById("ingest-label"),
           "Ingest " + job.status + ": " + job.inputs_done + " of " + job.inputs + " file(s), " +
           job.articles + " article(s) stored" + (job.status === "done" ? ", " + job.new + " new" : ""));
      if (job.status === "queued" || job.status === "running") {
        setTimeout(function () { pollJob(id, done); }, 500);
      } else {
        done(job);
      }
    });
}

function setupUpload() {
  const form = document.getElementById("upload-form");
  if (!form) return;
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    const files = document.getElementById("upload-files").files;
    if (!files.length) return;
    const data = new FormData();
    for (const f of files) data.append("files", f, f.name);
    document.getElementById("upload-progress").hidden = false;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/ingest");
    xhr.upload.onprogress = function (e) {
      if (!e.lengthComputable) return;
      const pct = Math.round(100 * e.loaded / e.total);
      document.getElementById("upload-bar").value = pct;
      text(document.getElementById("upload-label"), "Uploading: " + pct + "%");
    };
    xhr.onload = function () {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status >= 400 || !body) {
        text(document.getElementById("upload-label"),
             "Upload failed: " + (body && body.error ? body.error.message : xhr.status));
        return;
      }
      document.getElementById("upload-bar").value = 100;
      text(document.getElementById("upload-label"), "Uploaded " + files.length + " file(s).");
      pollJob(body.id, function (job) {
        const out = document.getElementById("upload-result");
        const link = document.createElement("a");
        link.href = "/jobs/" + encodeURIComponent(job.id);
        text(link, "Job " + job.id + ": " + job.problems.length + " problem(s); see the stories it touched");
        link.id = "job-link";
        out.appendChild(link);
      });
    };
    xhr.onerror = function () { text(document.getElementById("upload-label"), "Upload failed: network error"); };
    xhr.send(data);
  });
}

document.addEventListener("DOMContentLoaded", setupUpload);
