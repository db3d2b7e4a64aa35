// Placeholder until the agent console lands.
import { h } from "/console/ui.js";

export default async function render(root) {
  root.append(h("h1", {}, "Omni-Channel"));
}
