// Server-Sent Events over fetch(): EventSource cannot send the Authorization header.

import { api, ApiError } from "./api.js";

// Reads the stream until its `end` event, reconnecting with Last-Event-ID (the server
// resumes after it, without repeats) whenever the connection drops.
export async function follow(url, onEvent, signal) {
  let lastId = null;
  let delay = 500;
  while (!signal.aborted) {
    try {
      const headers = { Accept: "text/event-stream" };
      if (lastId) headers["Last-Event-ID"] = lastId;
      const res = await api(url, { headers, signal, cache: "no-store" });
      delay = 500;
      let ended = false;
      await readEvents(res.body, (e) => {
        if (e.id) lastId = e.id;
        onEvent(e.event, JSON.parse(e.data));
        if (e.event === "end") ended = true;
      });
      if (ended) return;
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof ApiError && err.status < 500 && err.status !== 429) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 10000);
  }
}

// A small parser of the text/event-stream format (HTML's "event stream interpretation").
export async function readEvents(body, dispatch) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = { event: "message", data: [], id: null };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    // A line ends with \r\n, \n or \r; a \r at the very end may be the start of \r\n.
    const lines = buffer.split(/\r\n|\r(?!$)|\n/);
    buffer = lines.pop();
    for (const line of lines) {
      if (line === "") {
        if (event.data.length) dispatch({ ...event, data: event.data.join("\n") });
        event = { event: "message", data: [], id: null };
        continue;
      }
      if (line.startsWith(":")) continue; // a comment (the server's keep-alive ping)
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") event.data.push(value);
      else if (field === "event") event.event = value;
      else if (field === "id") event.id = value;
    }
  }
}
