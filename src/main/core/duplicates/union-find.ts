// Disjoint sets over arbitrary numeric keys (photo ids): near-duplicate pairs chain into groups.
export class UnionFind {
  private readonly parent = new Map<number, number>();

  find(x: number): number {
    let root = this.parent.get(x) ?? x;
    if (root === x) {
      if (!this.parent.has(x)) this.parent.set(x, x);
      return x;
    }
    while (root !== (this.parent.get(root) ?? root)) root = this.parent.get(root)!;
    // Path compression: point everything on the way straight at the root.
    for (let at = x; at !== root;) {
      const next = this.parent.get(at)!;
      this.parent.set(at, root);
      at = next;
    }
    return root;
  }

  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(Math.max(ra, rb), Math.min(ra, rb));
  }

  /** Every set with at least `minSize` members, members in ascending order. */
  groups(minSize = 2): number[][] {
    const byRoot = new Map<number, number[]>();
    for (const key of this.parent.keys()) {
      const root = this.find(key);
      const list = byRoot.get(root);
      if (list) list.push(key);
      else byRoot.set(root, [key]);
    }
    return [...byRoot.values()].filter((g) => g.length >= minSize).map((g) => g.sort((a, b) => a - b));
  }
}
