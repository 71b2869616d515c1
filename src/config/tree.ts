// Reading and writing nested values by dotted path ("database.sqlite.path"), the bridge between
// the flat schema table and the nested Config object.

export type Tree = Record<string, unknown>;

export function getAtPath(tree: unknown, path: string): unknown {
  let node: unknown = tree;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Tree)[part];
  }
  return node;
}

export function setAtPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    let next = node[part];
    if (next === null || typeof next !== 'object') {
      next = {};
      node[part] = next;
    }
    node = next as Tree;
  }
  node[parts[parts.length - 1] as string] = value;
}
