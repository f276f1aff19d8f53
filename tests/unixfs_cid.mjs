// The reference IPFS importer's CID for a file, as `ipfs add --cid-version 1 --raw-leaves`
// computes it: reads {"size": N, "chunkSize": C} on stdin (the bytes are the pattern
// byte i = (i * 31 + 7) % 251, made here and in the test alike), prints {"cid": "b..."}.
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { MemoryBlockstore } from 'blockstore-core/memory'

let input = ''
for await (const chunk of process.stdin) input += chunk
const { size, chunkSize } = JSON.parse(input)
const bytes = new Uint8Array(size)
for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) % 251

const options = {
  cidVersion: 1,
  rawLeaves: true,
  reduceSingleLeafToSelf: true,
  chunker: fixedSize({ chunkSize }),
  layout: balanced({ maxChildrenPerNode: 174 })
}
let root
for await (const entry of importer([{ content: bytes }], new MemoryBlockstore(), options)) root = entry
process.stdout.write(JSON.stringify({ cid: root.cid.toString() }))
