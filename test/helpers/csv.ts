// Reading CSV back in tests: RFC 4180 (quoted cells may hold commas, doubled
// quotes and line breaks); every line ends with a newline.
export function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], cell = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; } else cell += c;
  }
  if (cell !== '' || row.length) throw new Error('CSV: the last line does not end with a newline');
  return rows;
}

/** Rows as records keyed by the header; every row has the header's length. */
export function readCsvRecords(text: string): Record<string, string>[] {
  const [head, ...body] = readCsv(text);
  return body.map((r) => {
    if (r.length !== head.length) throw new Error(`CSV: a row has ${r.length} cells, the header ${head.length}`);
    return Object.fromEntries(head.map((h, k) => [h, r[k]]));
  });
}
