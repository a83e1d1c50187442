/** Escaping for what goes into the page: user strings in HTML, data and scripts in <script>. */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or an attribute value in HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}

/** JSON for a <script type="application/json"> block: no "</script>" or "<!--" can close it. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/** JavaScript source for an inline <script>; refuses source that would end the element early. */
export function scriptForInline(source: string, what: string): string {
  if (/<\/script|<!--/i.test(source)) throw new Error(`${what} cannot be inlined: it contains "</script" or "<!--"`);
  return source;
}
