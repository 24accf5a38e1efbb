/** One dispatched Server-Sent Event (WHATWG HTML, "Server-sent events", §9.2.6). */
export interface ServerSentEvent {
  /** `message` when the stream named none. */
  type: string;
  data: string;
  /** The stream's last event id after this event (ids persist across events, as the standard says). */
  lastEventId: string;
}

/** Far above a SET (a few hundred bytes): a longer line is not our feed, and is not buffered without end. */
const MAX_LINE_CHARS = 64 * 1024;

/**
 * An incremental parser of the `text/event-stream` format: text in (any chunking, CR, LF or CRLF
 * line ends, a leading BOM), complete events out. Comment lines (`: keepalive`) and `retry` are
 * consumed without an event; an event without data is not dispatched, but its `id` still counts.
 */
export class EventStreamParser {
  private buffer = '';
  private started = false;
  private type = '';
  private data: string[] = [];
  private hasData = false;
  private lastEventId: string;
  /** A chunk ended in CR: an LF opening the next chunk belongs to the same line end. */
  private pendingCr = false;

  constructor(lastEventId = '') {
    this.lastEventId = lastEventId;
  }

  /** Feeds decoded text; returns the events it completed. Throws when a line grows past the bound. */
  push(text: string): ServerSentEvent[] {
    let chunk = text;
    if (!this.started && chunk.length > 0) {
      this.started = true;
      if (chunk.startsWith('\uFEFF')) chunk = chunk.slice(1);
    }
    if (this.pendingCr && chunk.startsWith('\n')) chunk = chunk.slice(1);
    this.pendingCr = false;
    this.buffer += chunk;
    const events: ServerSentEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(this.buffer.slice(start, i), events);
      if (c === 13) {
        if (i + 1 === this.buffer.length) this.pendingCr = true;
        else if (this.buffer.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    if (this.buffer.length > MAX_LINE_CHARS) throw new Error('event stream line too long');
    return events;
  }

  private line(line: string, events: ServerSentEvent[]): void {
    if (line === '') {
      this.dispatch(events);
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.type = value;
        return;
      case 'data':
        this.data.push(value);
        this.hasData = true;
        return;
      case 'id':
        // The standard ignores an id with NUL in it.
        if (!value.includes('\0')) this.lastEventId = value;
        return;
      default:
        // `retry` and unknown fields: our back-off is our own.
        return;
    }
  }

  private dispatch(events: ServerSentEvent[]): void {
    if (this.hasData) events.push({ type: this.type === '' ? 'message' : this.type, data: this.data.join('\n'), lastEventId: this.lastEventId });
    this.type = '';
    this.data = [];
    this.hasData = false;
  }

  /** The last event id seen so far (what to send as `Last-Event-ID` when reconnecting). */
  get eventId(): string {
    return this.lastEventId;
  }
}
