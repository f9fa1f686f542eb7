// Collects every listener, observer, timer and element a view creates, so `render`'s cleanup can free
// them all in one call (a re-executed cell must not leave handlers behind on `window`).

export class Disposer {
  private readonly fns: (() => void)[] = [];

  add(fn: () => void): void {
    this.fns.push(fn);
  }

  listen<E extends Event>(
    target: EventTarget,
    type: string,
    fn: (event: E) => void,
    options?: AddEventListenerOptions,
  ): void {
    const handler = fn as unknown as EventListener;
    target.addEventListener(type, handler, options);
    this.fns.push(() => target.removeEventListener(type, handler, options));
  }

  dispose(): void {
    // Reverse order: things built last may depend on things built first.
    for (const fn of this.fns.splice(0).reverse()) {
      try {
        fn();
      } catch (err) {
        console.error("labnb: cleanup failed", err);
      }
    }
  }
}
