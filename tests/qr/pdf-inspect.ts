// Reads a PDF on stdin and prints its page texts and the QR code decoded from page 1 as JSON.
// Runs in its own Node process: pdf.js loads its worker with a dynamic import, which Jest's module sandbox does not allow.
import jsQR from 'jsqr';
import { PDFParse } from 'pdf-parse';
import { PNG } from 'pngjs';

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function main(): Promise<void> {
  const parser = new PDFParse({ data: new Uint8Array(await readStdin()) });
  try {
    const text = await parser.getText();
    const shot = await parser.getScreenshot({ first: 1, scale: 1.5 });
    const image = shot.pages[0]?.data;
    let firstPageQr: string | null = null;
    if (image) {
      const png = PNG.sync.read(Buffer.from(image));
      firstPageQr = jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data ?? null;
    }
    process.stdout.write(JSON.stringify({ pages: text.pages.map((page) => page.text), firstPageQr }));
  } finally {
    await parser.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(String(error));
  process.exit(1);
});
