/*
 * What reaches the terminal. Stored fields (a record's Code or Message, an upstream's answer) are data, never
 * instructions to the terminal: every control character (C0 but newline and tab, DEL, C1) and every bidi control
 * is written as a \uXXXX escape. The same escape keeps a JSON document valid and its strings' meaning unchanged.
 */
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// In one table cell or an inline value, a newline or tab would also forge the layout.
const INLINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** A whole block of output: lines stay lines, nothing else controls the terminal. */
export const terminalSafe = (text: string): string => text.replace(CONTROLS, escape);

/** One value inside a line (a table cell, a quoted field): no control character at all. */
export const inline = (text: string): string => text.replace(INLINE, escape);
