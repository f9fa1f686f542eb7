// Decoding the image bytes into drawable bitmaps, shared by every view of a widget. Two decodes start as
// soon as the bytes arrive (anywidget's `initialize` runs before any view exists; Python sends the first
// image in the widget's creation message for that): a preview, the image itself decoded at reduced size
// where the browser can (ImageDecoder with desiredWidth: a 4000 px JPEG at 1000 px in ~25 ms idle, 60-80
// ms while the page is busy showing the widget, against 60-150 ms in full), for the first paint; then the
// full bitmap with createImageBitmap, off the main thread, which replaces it. The bitmaps are closed when
// the last view using them lets go.
//
// When Python has a stored preview of the image (labnb.pyramid, made once when the image was added), that
// is painted first instead and the full image comes later (`reduced: false`: no preview decode of it).
// Made on the fly in the kernel it did not pay (PIL's 1/8-scale draft decode: ~18 ms sooner on screen for
// ~23 ms more kernel time); read from the store it costs ~1 ms, and the widget's first message shrinks
// from the file's size to the preview's (benchmarks/annotator.py, cell_to_paint_ms).

/** The part of WebCodecs' ImageDecoder used here (not in TypeScript's DOM library yet). */
interface ImageDecoderLike {
  decode(): Promise<{ image: VideoFrame }>;
  close(): void;
}
interface ImageDecoderCtor {
  new (init: { data: BufferSource; type: string; desiredWidth?: number; desiredHeight?: number }): ImageDecoderLike;
  isTypeSupported(type: string): Promise<boolean>;
}

export interface Decoded {
  /** A smaller bitmap for the first paint, or null when there is none (small image, no ImageDecoder). */
  preview: Promise<ImageBitmap | null>;
  full: Promise<ImageBitmap>;
}

interface Entry extends Decoded {
  users: number;
  closed: boolean;
}

/** The preview's longest side is at least this: enough for a fitted view in a notebook. */
const PREVIEW_SIDE = 1000;

const cache = new WeakMap<DataView, Entry>();

function bytesOf(view: DataView): Uint8Array<ArrayBuffer> {
  return new Uint8Array(view.buffer as ArrayBuffer, view.byteOffset, view.byteLength);
}

/**
 * Decode with WebCodecs' ImageDecoder at a reduced size, or null where there is none or it cannot take the
 * type (it needs a secure context: localhost or https). For the preview only: at full size its
 * frame-to-bitmap copy blocks the main thread for 100-200 ms at 12 MP, where createImageBitmap decodes off it.
 */
async function viaDecoder(bytes: DataView, type: string, size: { desiredWidth: number; desiredHeight: number }): Promise<ImageBitmap | null> {
  const Decoder = (globalThis as { ImageDecoder?: ImageDecoderCtor }).ImageDecoder;
  if (!Decoder || !(await Decoder.isTypeSupported(type))) return null;
  const dec = new Decoder({ data: bytesOf(bytes), type, ...size });
  try {
    const { image } = await dec.decode();
    try {
      return await createImageBitmap(image);
    } finally {
      image.close();
    }
  } finally {
    dec.close();
  }
}

async function decodePreview(bytes: DataView, mime: string, width: number, height: number): Promise<ImageBitmap | null> {
  // A power-of-two reduction: JPEG decoders then scale in the inverse DCT itself, with no resampling.
  const k = 2 ** -Math.floor(Math.log2(Math.max(width, height) / PREVIEW_SIDE));
  if (!(k < 1)) return null; // small images decode fast in full
  try {
    return await viaDecoder(bytes, mime, { desiredWidth: Math.round(width * k), desiredHeight: Math.round(height * k) });
  } catch {
    return null; // the full decode still comes
  }
}

/** Start decoding (or find the decodes already started) for these bytes; `reduced: false` skips the
 * reduced-size preview decode (a stored preview is on screen already). */
export function decodeImage(bytes: DataView, mime: string, width: number, height: number, reduced = true): Decoded {
  const hit = cache.get(bytes);
  if (hit && !hit.closed) return hit;
  const type = mime || "image/png";
  performance.mark("labnb:decode-start");
  const preview = reduced ? decodePreview(bytes, type, width, height) : Promise.resolve(null);
  preview.then((b) => b && performance.mark("labnb:preview-decoded"), () => undefined);
  // The full decode starts once the preview is out: run side by side they share the CPU and the first
  // paint waits for both.
  const full = preview.then(
    () => createImageBitmap(new Blob([bytesOf(bytes)], { type })),
    () => createImageBitmap(new Blob([bytesOf(bytes)], { type })),
  );
  full.then(() => performance.mark("labnb:full-decoded"), () => undefined);
  const entry: Entry = { full, preview, users: 0, closed: false };
  // Bitmaps that arrive after the last user left are closed on arrival.
  const closeLate = (b: ImageBitmap | null): void => {
    if (entry.closed) b?.close();
  };
  full.then(closeLate, () => undefined);
  entry.preview.then(closeLate, () => undefined);
  cache.set(bytes, entry);
  return entry;
}

export function acquire(bytes: DataView, mime: string, width: number, height: number, reduced = true): Decoded {
  const entry = decodeImage(bytes, mime, width, height, reduced) as Entry;
  entry.users++;
  return entry;
}

export function release(bytes: DataView): void {
  const entry = cache.get(bytes);
  if (!entry || --entry.users > 0) return;
  entry.closed = true;
  cache.delete(bytes);
  entry.full.then((b) => b.close(), () => undefined);
  entry.preview.then((b) => b?.close(), () => undefined);
}
