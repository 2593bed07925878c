/** The page's one stylesheet, served at /__ui/style.css (a file of its own, so the CSP needs no inline style). */
export const STYLE = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #4a5360; --line: #c9d1db; --link: #0b4fb3; --focus: #1a56db; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff; }
a { color: var(--link); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, main:focus-visible {
  outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -10000px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem 1rem; z-index: 1; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem 2rem; padding: .75rem 1.5rem; background: #f3f5f8; border-bottom: 1px solid var(--line); }
header .brand { margin: 0; font-weight: 700; }
header .brand a { color: var(--ink); text-decoration: none; }
nav ul { display: flex; flex-wrap: wrap; gap: 1rem; list-style: none; margin: 0; padding: 0; }
main { padding: 1rem 1.5rem 2rem; max-width: 80rem; }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .75rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
section:first-of-type h2 { margin-top: .5rem; }
footer { padding: 1rem 1.5rem; color: var(--muted); border-top: 1px solid var(--line); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; min-width: 60%; margin: .5rem 0 1rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; color: var(--muted); }
th, td { text-align: left; padding: .4rem .75rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { background: #f3f5f8; font-weight: 600; }
tbody th { font-weight: 500; }
.scroll th, .scroll td { white-space: nowrap; }
.scroll td:last-child { white-space: normal; min-width: 16rem; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, monospace; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: .75rem; font-size: .85rem; font-weight: 600; border: 1px solid currentColor; }
.badge-completed, .badge-sent { background: #e6f4ea; color: #0b5d1e; }
.badge-failed { background: #fde8e8; color: #8a1c1c; }
.badge-unknown, .badge-waiting { background: #fff4d6; color: #5c3b00; }
.badge-in-progress, .badge-running, .badge-sending, .badge-pending, .badge-not-sent { background: #e8f0fe; color: #173a7a; }
.filters { display: flex; flex-wrap: wrap; align-items: flex-end; gap: .5rem 1.5rem; margin-bottom: 1rem; }
.filters label { display: block; font-weight: 600; }
.hint { margin: .15rem 0 0; font-size: .85rem; color: var(--muted); }
input, select, button { font: inherit; padding: .35rem .6rem; border: 1px solid #6b7685; border-radius: .3rem; }
button { background: var(--link); color: #fff; border-color: var(--link); cursor: pointer; }
.summary { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
.summary dt { font-weight: 600; }
.summary dd { margin: 0; }
.problem { color: #8a1c1c; font-weight: 600; }
.found { background: #f6f8fb; border: 1px solid var(--line); padding: 0 1rem; border-radius: .3rem; }
.empty { color: var(--muted); }
`;
