// Line icons (24 x 24, drawn with the current text colour), built as SVG elements from constants.

export type IconName =
  | "select" | "box" | "polygon" | "keypoints" | "mask" | "eraser" | "undo" | "redo" | "trash"
  | "zoomIn" | "zoomOut" | "brushSmaller" | "brushBigger" | "fit" | "prev" | "next" | "help" | "guide" | "eye" | "eyeOff" | "close" | "tag"
  | "assist" | "acceptAll";

interface Spec {
  paths: string[];
  circles?: [number, number, number][];
}

const ICONS: Record<IconName, Spec> = {
  select: { paths: ["M5 3l6.5 17 2.4-7.1L21 10.5z"] },
  box: { paths: ["M4 6h16v12H4z"], circles: [[4, 6, 1.6], [20, 6, 1.6], [4, 18, 1.6], [20, 18, 1.6]] },
  polygon: { paths: ["M12 3l8.5 6.2-3.2 10.3H6.7L3.5 9.2z"], circles: [[12, 3, 1.6], [20.5, 9.2, 1.6], [17.3, 19.5, 1.6], [6.7, 19.5, 1.6], [3.5, 9.2, 1.6]] },
  keypoints: { paths: ["M6 19l6-13 6 13", "M8.8 13h6.4"], circles: [[6, 19, 2], [12, 6, 2], [18, 19, 2]] },
  mask: { paths: ["M18.4 2.6a2.1 2.1 0 013 3L12 15l-3-3z", "M7 14c-1.7 0-3 1.3-3 3 0 1.4-.8 2.4-2 3 3.5 1 8 .2 8-3a3 3 0 00-3-3z"] },
  eraser: { paths: ["M7 21l-4-4a2 2 0 010-2.8L13.2 4a2 2 0 012.8 0l4.9 4.9a2 2 0 010 2.8L12 21z", "M22 21H7", "M5.5 11.5l7 7"] },
  undo: { paths: ["M9 14L4 9l5-5", "M4 9h10.5a5.5 5.5 0 010 11H11"] },
  redo: { paths: ["M15 14l5-5-5-5", "M20 9H9.5a5.5 5.5 0 000 11H13"] },
  trash: { paths: ["M3 6h18", "M8 6V4h8v2", "M19 6l-1 14H6L5 6", "M10 11v5", "M14 11v5"] },
  brushSmaller: { paths: ["M4 12h4"], circles: [[16, 12, 3]] },
  brushBigger: { paths: ["M2 12h4", "M4 10v4"], circles: [[15.5, 12, 6.5]] },
  zoomIn: { paths: ["M21 21l-4.4-4.4", "M11 8v6", "M8 11h6"], circles: [[11, 11, 7]] },
  zoomOut: { paths: ["M21 21l-4.4-4.4", "M8 11h6"], circles: [[11, 11, 7]] },
  fit: { paths: ["M3 8V3h5", "M21 8V3h-5", "M3 16v5h5", "M21 16v5h-5", "M8 9h8v6H8z"] },
  prev: { paths: ["M15 18l-6-6 6-6"] },
  next: { paths: ["M9 18l6-6-6-6"] },
  help: { paths: ["M9.1 9a3 3 0 015.8 1c0 2-3 3-3 3", "M12 17h.01"], circles: [[12, 12, 10]] },
  guide: { paths: ["M4 19.5A2.5 2.5 0 016.5 17H20V2H6.5A2.5 2.5 0 004 4.5z", "M4 19.5A2.5 2.5 0 006.5 22H20v-5"] },
  eye: { paths: ["M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12z"], circles: [[12, 12, 3]] },
  eyeOff: {
    paths: [
      "M3 3l18 18",
      "M10.6 5.1A10 10 0 0112 5c6.5 0 10 7 10 7a17 17 0 01-2.6 3.4",
      "M6.6 6.6C3.8 8.4 2 12 2 12s3.5 7 10 7a9.7 9.7 0 005.4-1.6",
      "M9.9 9.9a3 3 0 004.2 4.2",
    ],
  },
  close: { paths: ["M18 6L6 18", "M6 6l12 12"] },
  tag: { paths: ["M20.6 13.4l-7.2 7.2a2 2 0 01-2.8 0L2 12V2h10l8.6 8.6a2 2 0 010 2.8z"], circles: [[7, 7, 1.5]] },
  // A dashed box with a spark: the model's suggestions.
  assist: { paths: ["M3 9V6h3", "M3 13v2", "M3 19v2h3", "M10 21h3", "M17 21h4v-4", "M21 13v-2", "M10 6h1", "M17 3l1.2 2.8L21 7l-2.8 1.2L17 11l-1.2-2.8L13 7l2.8-1.2z"] },
  acceptAll: { paths: ["M2 12l4 4 8-8", "M10 16l2 2 10-10"] },
};

const NS = "http://www.w3.org/2000/svg";

export function icon(name: IconName): SVGSVGElement {
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "lnb-icon");
  svg.setAttribute("aria-hidden", "true");
  const spec = ICONS[name];
  for (const d of spec.paths) {
    const p = document.createElementNS(NS, "path");
    p.setAttribute("d", d);
    svg.appendChild(p);
  }
  for (const [cx, cy, r] of spec.circles ?? []) {
    const c = document.createElementNS(NS, "circle");
    c.setAttribute("cx", String(cx));
    c.setAttribute("cy", String(cy));
    c.setAttribute("r", String(r));
    svg.appendChild(c);
  }
  return svg;
}
