// Whalebird's first step when an account is added: megalodon's detector() reads NodeInfo
// and picks the API; then its client reads the instance. Prints both as one JSON line.
import generator, { detector } from 'megalodon'

const base = process.argv[2]
const sns = await detector(base)
const instance = await generator(sns, base).getInstance()
console.log(JSON.stringify({ sns, uri: instance.data.uri, version: instance.data.version }))
