/** The content of `<meta name="…">`, trimmed; '' when the page has no such tag. */
export function meta(name: string): string {
  return document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content.trim() ?? '';
}

/**
 * The element with this id, checked to be a `kind`: an id renamed in index.html fails loudly
 * instead of leaving a button that silently does nothing.
 */
export function byId(id: string): HTMLElement;
export function byId<T extends HTMLElement>(id: string, kind: new () => T): T;
export function byId(id: string, kind: new () => HTMLElement = HTMLElement): HTMLElement {
  const element = document.getElementById(id);
  if (!(element instanceof kind)) throw new Error(`#${id} is missing from the page or is not a ${kind.name}`);
  return element;
}
