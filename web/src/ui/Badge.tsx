// A count on a row's button (unread messages, mentions). Decorative: the button's
// accessible name says it in words. The digits are drawn by CSS from `data-count`, so
// they are not part of the button's text, whose accessible name must contain what it
// shows (WCAG 2.5.3, axe-core's label-content-name-mismatch).

export function Badge({ count, kind }: { count: string; kind?: "mentions" }) {
  return <span className={kind ? `badge ${kind}` : "badge"} aria-hidden="true" data-count={count} />;
}
