// Fedify's side of the object integrity proof tests (FEP-8b32, eddsa-jcs-2022).
// stdin: {"mode": "verify", "document": {...}, "documents": {"url": {...}}}
//   verifies every proof of `document` with Fedify's verifyProof, resolving keys only from
//   `documents` (our real instance's actor documents, fetched by the test), and prints
//   {"verified": [key ids], "object": true|false} (`object`: verifyObject's verdict).
// stdin: {"mode": "sign", "actor": "https://fedify.example/users/f", "object": {...}}
//   makes an Ed25519 key, signs `object` (compacted JSON-LD, ActivityStreams) with Fedify's
//   signObject, and prints {"signed": {...}, "actor": {...the actor document...}}.
import {
  generateCryptoKeyPair, signObject, verifyObject, verifyProof
} from '@fedify/fedify'
import {
  CryptographicKey, DataIntegrityProof, Multikey, Object as APObject, Person
} from '@fedify/vocab'
import { getDocumentLoader } from '@fedify/vocab-runtime'

let input = ''
for await (const chunk of process.stdin) input += chunk
const request = JSON.parse(input)
const preloaded = getDocumentLoader()
const documents = request.documents ?? {}
const documentLoader = async (url) => {
  const bare = url.split('#')[0]
  if (bare in documents) return { contextUrl: null, document: documents[bare], documentUrl: bare }
  return await preloaded(url) // the bundled JSON-LD contexts; nothing is fetched
}
const options = { documentLoader, contextLoader: documentLoader }

if (request.mode === 'verify') {
  const doc = request.document
  const proofs = Array.isArray(doc.proof) ? doc.proof : [doc.proof]
  const verified = []
  for (const proof of proofs) {
    const parsed = await DataIntegrityProof.fromJsonLd(
      { '@context': 'https://w3id.org/security/data-integrity/v1', ...proof }, options)
    const key = await verifyProof(doc, parsed, options)
    if (key != null) verified.push(key.id.href)
  }
  // Object.fromJsonLd picks the subclass (Page, Create, Person, ...) by the type.
  const object = await verifyObject(APObject, doc, options)
  process.stdout.write(JSON.stringify({ verified, object: object != null }))
} else {
  const { privateKey, publicKey } = await generateCryptoKeyPair('Ed25519')
  const rsa = await generateCryptoKeyPair('RSASSA-PKCS1-v1_5')
  const keyId = new URL(request.actor + '#ed25519-key')
  const actor = new Person({
    id: new URL(request.actor),
    preferredUsername: 'f',
    inbox: new URL(request.actor + '/inbox'),
    // The RSA key for HTTP signatures, which an actor document needs anyway.
    publicKey: new CryptographicKey({
      id: new URL(request.actor + '#main-key'), owner: new URL(request.actor),
      publicKey: rsa.publicKey
    }),
    assertionMethods: [new Multikey({ id: keyId, controller: new URL(request.actor), publicKey })]
  })
  const object = await APObject.fromJsonLd(request.object, options)
  const signed = await signObject(object, privateKey, keyId, options)
  process.stdout.write(JSON.stringify({
    signed: await signed.toJsonLd({ format: 'compact', contextLoader: documentLoader }),
    actor: await actor.toJsonLd({ format: 'compact', contextLoader: documentLoader })
  }))
}
