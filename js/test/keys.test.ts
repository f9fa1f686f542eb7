// Key combos as the keymap writes them ("Ctrl+Shift+z", "?", "ArrowRight") against keyboard events.
import assert from "node:assert/strict";
import { test } from "node:test";
import { KeyMap, matches, parseCombo } from "../src/keys";

function key(k: string, mods: { ctrl?: boolean; shift?: boolean; alt?: boolean; meta?: boolean } = {}): KeyboardEvent {
  return { key: k, ctrlKey: !!mods.ctrl, shiftKey: !!mods.shift, altKey: !!mods.alt, metaKey: !!mods.meta } as KeyboardEvent;
}

test("modifiers must match; Cmd counts as Ctrl", () => {
  const undo = parseCombo("Ctrl+z");
  assert.ok(matches(undo, key("z", { ctrl: true })));
  assert.ok(matches(undo, key("z", { meta: true })));
  assert.ok(!matches(undo, key("z")));
  assert.ok(!matches(undo, key("z", { ctrl: true, shift: true })));
  assert.ok(matches(parseCombo("Ctrl+Shift+z"), key("Z", { ctrl: true, shift: true })));
});

test("Shift is ignored for punctuation typed with it on many layouts", () => {
  assert.ok(matches(parseCombo("?"), key("?", { shift: true })));
  assert.ok(matches(parseCombo("+"), key("+", { shift: true })));
  assert.ok(!matches(parseCombo("Enter"), key("Enter", { shift: true })));
});

test("the keymap finds the action of an event, remapped keys included", () => {
  const km = new KeyMap({ tool_box: "r", undo: "Ctrl+z" });
  assert.equal(km.match(key("r")), "tool_box");
  assert.equal(km.match(key("z", { ctrl: true })), "undo");
  assert.equal(km.match(key("q")), null);
});
