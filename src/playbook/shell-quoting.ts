// A small POSIX shell lexer that tells, for every `{{ … }}` template in a command,
// how the shell would read it: bare (the quoted value becomes one word), or inside
// single quotes, double quotes or a here-document, where mirrorctl's own quoting
// would break the command or let a value run as code. Inside `$(…)` and backticks
// the shell starts afresh. Not handled (rare in playbooks): `case` patterns with an
// unbalanced `)` inside `$(…)`.

export type Quoting = 'bare' | 'single quotes' | 'double quotes' | 'a here-document';

/** One template in a command and how the shell reads the place it stands in. */
export interface TemplateSite {
  /** The text between the braces, trimmed. */
  ref: string;
  /** Offset of `{{` in the command. */
  offset: number;
  quoting: Quoting;
}

interface PendingHeredoc {
  delimiter: string;
  stripTabs: boolean;
  expands: boolean;
}

const WORD_START = new Set([undefined, ' ', '\t', '\n', ';', '&', '|', '(', ')']);
const WORD_END = /[\s;&|<>()]/;

// Every template of `command` with the quoting the shell would read it in, in order.
export function templateSites(command: string): TemplateSite[] {
  const lexer = new Lexer(command, 0, command.length);
  lexer.shell(null);
  return lexer.sites.sort((a, b) => a.offset - b.offset);
}

class Lexer {
  pos: number;
  readonly sites: TemplateSite[];
  private pending: PendingHeredoc[] = [];

  constructor(
    private readonly text: string,
    start: number,
    private readonly end: number,
    sites: TemplateSite[] = [],
  ) {
    this.pos = start;
    this.sites = sites;
  }

  // Unquoted shell text until `until` (`)` of `$(`, a closing backtick) or the end.
  shell(until: ')' | '`' | null): void {
    let depth = 0;
    while (this.pos < this.end) {
      const c = this.text[this.pos]!;
      const next = this.text[this.pos + 1];
      if (this.template('bare')) continue;
      if (c === '\\') this.pos += 2;
      else if (c === "'") this.single(false);
      else if (c === '"') this.double();
      else if (c === '`') {
        this.pos++;
        if (until === '`') return;
        this.shell('`');
      } else if (c === '$' && next === "'") this.single(true);
      else if (c === '$' && next === '(' && this.text[this.pos + 2] === '(') this.arithmetic(3);
      else if (c === '$' && next === '(') {
        this.pos += 2;
        this.shell(')');
      } else if (c === '(' && next === '(' && WORD_START.has(this.text[this.pos - 1])) this.arithmetic(2);
      else if (c === '(') {
        depth++;
        this.pos++;
      } else if (c === ')') {
        this.pos++;
        if (until === ')' && depth === 0) return;
        depth = Math.max(0, depth - 1);
      } else if (c === '#' && WORD_START.has(this.text[this.pos - 1])) this.comment();
      else if (c === '<' && next === '<' && this.text[this.pos + 2] === '<') this.pos += 3;
      else if (c === '<' && next === '<') this.heredocOperator();
      else if (c === '\n') {
        this.pos++;
        this.heredocBodies();
      } else this.pos++;
    }
  }

  // A template at the current position: recorded with its quoting and skipped.
  private template(quoting: Quoting): boolean {
    if (!this.text.startsWith('{{', this.pos)) return false;
    const close = this.text.indexOf('}}', this.pos + 2);
    if (close === -1 || close + 2 > this.end) {
      this.pos += 2; // malformed: the template parser reports it
      return true;
    }
    this.sites.push({ ref: this.text.slice(this.pos + 2, close).trim(), offset: this.pos, quoting });
    this.pos = close + 2;
    return true;
  }

  // '…' (no escapes) or $'…' (backslash escapes).
  private single(ansiC: boolean): void {
    this.pos += ansiC ? 2 : 1;
    while (this.pos < this.end && this.text[this.pos] !== "'") {
      if (this.template('single quotes')) continue;
      this.pos += ansiC && this.text[this.pos] === '\\' ? 2 : 1;
    }
    this.pos++;
  }

  // "…": backslash escapes some characters; `$(…)` and backticks start afresh.
  private double(): void {
    this.pos++;
    while (this.pos < this.end && this.text[this.pos] !== '"') this.expanding('double quotes');
    this.pos++;
  }

  // One step through text that expands but is not split into words (double quotes, a here-document body).
  private expanding(quoting: Quoting): void {
    const c = this.text[this.pos];
    const next = this.text[this.pos + 1];
    if (this.template(quoting)) return;
    if (c === '\\') this.pos += 2;
    else if (c === '$' && next === '(' && this.text[this.pos + 2] === '(') this.arithmetic(3);
    else if (c === '$' && next === '(') {
      this.pos += 2;
      this.shell(')');
    } else if (c === '`') {
      this.pos++;
      this.shell('`');
    } else this.pos++;
  }

  // $(( … )) or (( … )): arithmetic, read as bare words, where `<<` is a shift, not a here-document.
  private arithmetic(open: number): void {
    this.pos += open;
    let depth = 0;
    while (this.pos < this.end) {
      if (this.template('bare')) continue;
      const c = this.text[this.pos];
      if (c === '$' && this.text[this.pos + 1] === '(' && this.text[this.pos + 2] !== '(') {
        this.pos += 2;
        this.shell(')');
        continue;
      }
      this.pos++;
      if (c === '(') depth++;
      else if (c === ')' && depth > 0) depth--;
      else if (c === ')' && this.text[this.pos] === ')') {
        this.pos++;
        return;
      }
    }
  }

  // # … to the end of the line: templates there are never run.
  private comment(): void {
    while (this.pos < this.end && this.text[this.pos] !== '\n') this.pos++;
  }

  // <<WORD, <<-WORD, <<'WORD', <<"WORD", <<\WORD: the body starts after the current line.
  private heredocOperator(): void {
    this.pos += 2;
    const stripTabs = this.text[this.pos] === '-';
    if (stripTabs) this.pos++;
    while (this.text[this.pos] === ' ' || this.text[this.pos] === '\t') this.pos++;
    let delimiter = '';
    let quoted = false;
    while (this.pos < this.end && !WORD_END.test(this.text[this.pos]!)) {
      if (this.template('a here-document')) continue;
      const c = this.text[this.pos]!;
      if (c === "'" || c === '"') {
        quoted = true;
        const close = this.text.indexOf(c, this.pos + 1);
        const stop = close === -1 || close >= this.end ? this.end : close;
        delimiter += this.text.slice(this.pos + 1, stop);
        this.pos = stop + 1;
      } else if (c === '\\') {
        quoted = true;
        delimiter += this.text[this.pos + 1] ?? '';
        this.pos += 2;
      } else {
        delimiter += c;
        this.pos++;
      }
    }
    this.pending.push({ delimiter, stripTabs, expands: !quoted });
  }

  // After a newline: the bodies of the here-documents opened on the line just ended.
  private heredocBodies(): void {
    const pending = this.pending;
    this.pending = [];
    for (const heredoc of pending) {
      const start = this.pos;
      let lineStart = start;
      let bodyEnd = this.end;
      let after = this.end;
      while (lineStart < this.end) {
        const newline = this.text.indexOf('\n', lineStart);
        const lineEnd = newline === -1 || newline > this.end ? this.end : newline;
        const line = this.text.slice(lineStart, lineEnd);
        if ((heredoc.stripTabs ? line.replace(/^\t+/, '') : line) === heredoc.delimiter) {
          bodyEnd = lineStart;
          after = Math.min(lineEnd + 1, this.end);
          break;
        }
        lineStart = lineEnd + 1;
      }
      this.heredocBody(start, bodyEnd, heredoc.expands);
      this.pos = after;
    }
  }

  // A body is read like double-quoted text when its delimiter was unquoted, else as literal text.
  private heredocBody(start: number, end: number, expands: boolean): void {
    const body = new Lexer(this.text, start, end, this.sites);
    while (body.pos < end) {
      if (expands) body.expanding('a here-document');
      else if (!body.template('a here-document')) body.pos++;
    }
  }
}
