// Browser-side "save as": a Blob URL behind a temporary <a download>. The URL is revoked
// right after the click so decrypted bytes do not linger in a reachable object URL.
export function downloadBytes(data: string | Uint8Array, name: string, type = 'application/octet-stream'): void {
  // A Blob takes only bytes over a plain ArrayBuffer; bytes from IPC may sit on a shared one.
  const part: BlobPart = typeof data === 'string' || data.buffer instanceof ArrayBuffer ? (data as string | Uint8Array<ArrayBuffer>) : new Uint8Array(data);
  const url = URL.createObjectURL(new Blob([part], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export async function readFileBytes(file: File): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await file.arrayBuffer());
}
