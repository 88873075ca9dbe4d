/**
 * The rows of the first Markdown table after a marker line (header and rule rows
 * dropped, cells trimmed, escaped pipes kept), for the tests that hold the docs'
 * tables to the code. `undefined` when the marker is missing.
 */
export function markdownTable(
  text: string,
  marker: string,
  options: { withinSection?: boolean } = {},
): string[][] | undefined {
  const start = text.indexOf(marker);
  if (start < 0) return undefined;
  const rows: string[][] = [];
  let inTable = false;
  for (const line of text.slice(start).split('\n').slice(1)) {
    // a table that is not in the marker's own section is not its table
    if (options.withinSection && line.startsWith('## ')) break;
    if (line.startsWith('|')) {
      inTable = true;
      rows.push(
        line
          .split(/(?<!\\)\|/)
          .slice(1, -1)
          .map((c) => c.trim()),
      );
    } else if (inTable) break;
  }
  return rows.slice(2);
}
