// surt.mjs: reads URLs, one per line, on standard input and prints the
// key warcio.js's getSurt gives each (the key ReplayWeb.page looks URLs up
// by in a CDXJ index), one per line.
import { getSurt } from "warcio/utils";

let input = "";
for await (const chunk of process.stdin) input += chunk;
for (const url of input.split("\n")) {
  if (url !== "") process.stdout.write(getSurt(url) + "\n");
}
