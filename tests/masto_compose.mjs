// What Elk does with masto.js when a person boosts, edits and votes: each step's answer
// is printed as one JSON line, so the test can check what the typed client received.
import { createRestAPIClient } from 'masto'

const [base, token, action, id, ...rest] = process.argv.slice(2)
const masto = createRestAPIClient({ url: base, accessToken: token })
const status = masto.v1.statuses.$select(id)
const steps = {
  reblog: async () => {
    const boost = await status.reblog()
    const home = await masto.v1.timelines.home.list({ limit: 5 })
    const again = await masto.v1.statuses.$select(boost.id).fetch()
    const undone = await status.unreblog()
    return {
      boost: { id: boost.id, reblog: boost.reblog.id, account: boost.account.id },
      home: home.map((s) => ({ id: s.id, reblog: s.reblog ? s.reblog.id : null })),
      again: again.reblog.id,
      undone: { id: undone.id, reblogged: undone.reblogged },
    }
  },
  edit: async () => {
    const edited = await status.update({ status: rest[0], spoilerText: rest[1] })
    const history = await status.history.list()
    const source = await status.source.fetch()
    return {
      edited: { content: edited.content, editedAt: edited.editedAt },
      history: history.map((e) => e.content),
      source: { text: source.text, spoiler: source.spoilerText },
    }
  },
  vote: async () => {
    const poll = masto.v1.polls.$select(id)
    const voted = await poll.votes.create({ choices: rest.map(Number) })
    const read = await poll.fetch()
    return { voted: voted.ownVotes, votes: read.options.map((o) => o.votesCount) }
  },
}
console.log(JSON.stringify(await steps[action]()))
