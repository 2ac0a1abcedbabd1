/**
 * The example chat page: plain DOM code on the typed client that `npm run sdk` generates from the
 * server's AsyncAPI document (`npm start` bundles it with esbuild). User content only ever goes
 * through `textContent`, never through HTML.
 *
 * Query parameters (for trying out reconnects, and for the end-to-end test):
 *   ?reconnectBaseMs=100&reconnectMaxMs=500  faster reconnect backoff than the client's default.
 * The location hash names the room to open: http://127.0.0.1:3000/#random
 */
import {
  createClient,
  randomisedExponentialBackoff,
  RealtimeError,
  ServerError,
  type BackoffOptions,
  type ConnectionState,
  type RealtimeClient,
} from '@app/realtime-client'

const DEFAULT_ROOMS = ['general', 'random', 'help']
const ROOM_NAME = /^[A-Za-z0-9_.:@#/-]{1,128}$/
const NAME_KEY = 'fastify-ws-rooms-chat:name'
/** Send `typing` at most this often while the user types. */
const TYPING_SEND_EVERY_MS = 2000
/** Show "X is typing…" this long after the last `typing` from X. */
const TYPING_SHOWN_MS = 4000
/** Consecutive messages of one author closer than this share one header. */
const GROUP_WITHIN_MS = 5 * 60_000
/** Fetch a new token when the cached one has less than this left (the client refreshes 60 s before expiry). */
const TOKEN_MARGIN_MS = 90_000
const REACTIONS = ['👍', '🎉', '😂']

// ── state ──────────────────────────────────────────────────────────────────

interface ChatMessage {
  kind: 'message'
  userId: string
  content: string
  ts: number
  seq: number | undefined
  /** emoji → users who reacted with it. */
  reactions: Map<string, Set<string>>
}
interface Note { kind: 'note', text: string, ts: number }
type Entry = ChatMessage | Note

interface Room {
  name: string
  joined: boolean
  /** An explicit join is in flight: its `room_joined` starts the view afresh. */
  joining: boolean
  members: Set<string>
  entries: Entry[]
  /** Messages by `seq`, for reactions. Cleared when the server's `seq` starts over. */
  bySeq: Map<number, ChatMessage>
  /** userId → when their "typing" expires. */
  typing: Map<string, number>
  unread: number
}

let client: RealtimeClient | undefined
let me = ''
/** Signed in as a moderator: the member list offers "Remove" (a REST call, see examples/chat/moderation.ts). */
let moderator = false
/** The current token, for REST calls. */
let currentToken: (() => Promise<string>) | undefined
let current: string | undefined
let reconnectAt = 0
/** The current connection attempt is a retry (shown as "Reconnecting now…"). */
let retrying = false
let lastTypingSentAt = 0
const rooms = new Map<string, Room>()
const reactionRows = new WeakMap<ChatMessage, HTMLElement>()

function roomOf (name: string): Room {
  let room = rooms.get(name)
  if (room === undefined) {
    room = { name, joined: false, joining: false, members: new Set(), entries: [], bySeq: new Map(), typing: new Map(), unread: 0 }
    rooms.set(name, room)
  }
  return room
}

// ── DOM helpers ────────────────────────────────────────────────────────────

function byId<T extends HTMLElement> (id: string): T {
  const element = document.getElementById(id)
  if (element === null) throw new Error(`#${id} is missing from index.html`)
  return element as T
}

/** An element with a class and, optionally, text (as text: never parsed as HTML). */
function el<K extends keyof HTMLElementTagNameMap> (tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  if (className !== undefined) element.className = className
  if (text !== undefined) element.textContent = text
  return element
}

const ui = {
  signin: byId<HTMLElement>('signin'),
  signinForm: byId<HTMLFormElement>('signin-form'),
  nameInput: byId<HTMLInputElement>('name-input'),
  moderatorInput: byId<HTMLInputElement>('moderator-input'),
  signinError: byId<HTMLElement>('signin-error'),
  chat: byId<HTMLElement>('chat'),
  status: byId<HTMLElement>('status'),
  statusText: byId<HTMLElement>('status-text'),
  statusRetry: byId<HTMLButtonElement>('status-retry'),
  rooms: byId<HTMLUListElement>('rooms'),
  newRoomForm: byId<HTMLFormElement>('new-room-form'),
  newRoomInput: byId<HTMLInputElement>('new-room-input'),
  members: byId<HTMLUListElement>('members'),
  memberCount: byId<HTMLElement>('member-count'),
  meAvatar: byId<HTMLElement>('me-avatar'),
  meName: byId<HTMLElement>('me-name'),
  signout: byId<HTMLButtonElement>('signout'),
  roomTitle: byId<HTMLElement>('room-title'),
  roomSubtitle: byId<HTMLElement>('room-subtitle'),
  roomToggle: byId<HTMLButtonElement>('room-toggle'),
  messages: byId<HTMLOListElement>('messages'),
  typing: byId<HTMLElement>('typing'),
  composer: byId<HTMLFormElement>('composer'),
  messageInput: byId<HTMLInputElement>('message-input'),
  sendButton: byId<HTMLButtonElement>('composer').querySelector('button') as HTMLButtonElement,
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' })

/** A stable hue per user, so avatars are told apart at a glance. */
function hueOf (userId: string): number {
  let hash = 0
  for (const char of userId) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0
  return hash % 360
}

function avatar (userId: string, element: HTMLElement = el('span', 'avatar')): HTMLElement {
  element.textContent = [...userId][0]?.toUpperCase() ?? '?'
  element.style.setProperty('--hue', String(hueOf(userId)))
  return element
}

// ── sign-in ────────────────────────────────────────────────────────────────

interface DevToken { token: string, userId: string, expiresAt: number }

/** DEVELOPMENT ONLY: the example server mints a token for any name. A real app has a real login. */
async function fetchToken (name: string): Promise<DevToken> {
  const response = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(moderator ? { name, moderator } : { name }),
  })
  if (response.status === 400) throw new Error("Use 1–32 letters or digits, with spaces or _ . ' - inside.")
  if (!response.ok) throw new Error(`Sign-in failed (HTTP ${response.status}).`)
  return await response.json() as DevToken
}

ui.signinForm.addEventListener('submit', (event) => {
  event.preventDefault()
  void signIn(ui.nameInput.value.trim())
})

async function signIn (name: string): Promise<void> {
  ui.signinError.textContent = ''
  moderator = ui.moderatorInput.checked
  let token: DevToken
  try {
    token = await fetchToken(name)
  } catch (error) {
    ui.signinError.textContent = error instanceof Error ? error.message : String(error)
    ui.nameInput.focus()
    return
  }
  sessionStorage.setItem(NAME_KEY, name)
  me = token.userId
  ui.meName.textContent = me
  avatar(me, ui.meAvatar)
  ui.signin.hidden = true
  ui.chat.hidden = false
  connect(name, token)
  const fromHash = decodeURIComponent(location.hash.slice(1))
  void join(ROOM_NAME.test(fromHash) ? fromHash : 'general')
}

ui.signout.addEventListener('click', () => {
  client?.close(1000, 'Signed out')
  client = undefined
  sessionStorage.removeItem(NAME_KEY)
  rooms.clear()
  current = undefined
  ui.chat.hidden = true
  ui.signin.hidden = false
  ui.nameInput.focus()
})

// ── the client ─────────────────────────────────────────────────────────────

/** Backoff from the query string (`reconnectBaseMs`, `reconnectMaxMs`); the client's defaults otherwise. */
function backoffFromQuery (): BackoffOptions {
  const params = new URLSearchParams(location.search)
  const options: BackoffOptions = {}
  const base = Number(params.get('reconnectBaseMs'))
  const max = Number(params.get('reconnectMaxMs'))
  if (base > 0) options.baseMs = base
  if (max > 0) options.maxMs = max
  return options
}

function connect (name: string, first: DevToken): void {
  let cached: DevToken | undefined = first
  // Called before every (re)connect and before each token refresh: reuse the token while it
  // has time left, so reconnects to a restarted server need no extra request.
  const token = async (): Promise<string> => {
    if (cached === undefined || cached.expiresAt - Date.now() < TOKEN_MARGIN_MS) cached = await fetchToken(name)
    return cached.token
  }
  currentToken = token
  const connection = createClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`,
    token,
    reconnect: randomisedExponentialBackoff(backoffFromQuery()),
    lazy: false,
  })
  client = connection

  connection.on('state', ({ state }) => renderStatus(state))
  connection.on('connecting', ({ attempt }) => {
    retrying = attempt > 0
    renderStatus(connection.state)
  })
  connection.on('reconnecting', ({ delayMs }) => {
    reconnectAt = Date.now() + delayMs
    renderStatus('reconnecting')
  })
  // A refused token (e.g. the server's secret changed): ask for a new one next time.
  connection.on('disconnected', ({ code }) => { if (code === 4001) cached = undefined })
  connection.on('rejoined', ({ room, recovered }) => {
    addNote(roomOf(room), recovered
      ? 'Reconnected. Nothing was missed.'
      : 'Reconnected. The server restarted or you were away long: earlier messages may be missing.')
    // The server's `seq` may have started over: old messages no longer take reactions.
    if (!recovered) roomOf(room).bySeq.clear()
  })
  connection.on('rejoinFailed', ({ room, error }) => {
    const state = roomOf(room)
    state.joined = false
    state.members.clear()
    addNote(state, `Could not join #${room} again: ${error.message}`)
    renderRoomChrome()
  })
  connection.on('error', ({ error, context }) => console.warn(`chat client (${context}):`, error))

  connection.onRoomJoined(({ room: name, members }) => {
    const room = roomOf(name)
    if (room.joining) {
      // A fresh join: the recent history (`since: 0`) follows this reply.
      room.entries = []
      room.bySeq.clear()
      room.unread = 0
    }
    room.joining = false
    room.joined = true
    room.members = new Set(members)
    if (name === current) renderMessages()
    renderRoomChrome()
  })
  // The server changed this connection's rooms itself (app.ws.addToRoom / removeFromRoom).
  connection.onRoomAdded(({ room: name, members }) => {
    const room = roomOf(name)
    room.joined = true
    room.members = new Set(members)
    addNote(room, `You were added to #${name}.`)
    renderRoomChrome()
  })
  connection.onRoomRemoved(({ room: name, reason }) => {
    const room = roomOf(name)
    room.joined = false
    room.joining = false
    room.members.clear()
    room.typing.clear()
    addNote(room, `You were removed from #${name}: ${reason}`)
    renderRoomChrome()
    renderTyping()
  })
  connection.onUserJoined(({ userId }, { room: name }) => {
    if (name === undefined) return
    roomOf(name).members.add(userId)
    renderRoomChrome()
  })
  connection.onUserLeft(({ userId }, { room: name }) => {
    if (name === undefined) return
    const room = roomOf(name)
    room.members.delete(userId)
    room.typing.delete(userId)
    renderRoomChrome()
    renderTyping()
  })
  connection.onMessage(({ userId, content, ts }, { room: name, seq }) => {
    if (name === undefined) return
    const room = roomOf(name)
    const message: ChatMessage = { kind: 'message', userId, content, ts, seq, reactions: new Map() }
    if (seq !== undefined) room.bySeq.set(seq, message)
    room.typing.delete(userId)
    append(room, message)
    renderTyping()
  })
  connection.onTyping(({ userId }, { room: name }) => {
    if (name === undefined) return
    roomOf(name).typing.set(userId, Date.now() + TYPING_SHOWN_MS)
    renderTyping()
  })
  connection.onReaction(({ userId, seq, emoji }, { room: name }) => {
    if (name === undefined) return
    const message = roomOf(name).bySeq.get(seq)
    if (message === undefined) return
    let users = message.reactions.get(emoji)
    if (users === undefined) message.reactions.set(emoji, users = new Set())
    users.add(userId)
    const row = reactionRows.get(message)
    if (row !== undefined) renderReactions(message, row)
  })
}

function describe (error: unknown): string {
  if (error instanceof ServerError) return `${error.message} (${error.code})`
  if (error instanceof RealtimeError) return error.message
  return String(error)
}

// ── rooms ──────────────────────────────────────────────────────────────────

async function join (name: string): Promise<void> {
  select(name)
  const room = roomOf(name)
  if (room.joined || room.joining || client === undefined) return
  room.joining = true
  renderRoomChrome()
  try {
    // `since: 0`: also receive the room's recent history.
    await client.sendJoinRoom({ room: name, since: 0 })
  } catch (error) {
    room.joining = false
    addNote(room, `Could not join #${name}: ${describe(error)}`)
    renderRoomChrome()
  }
}

async function leave (name: string): Promise<void> {
  const room = roomOf(name)
  if (!room.joined || client === undefined) return
  try {
    await client.sendLeaveRoom({ room: name })
    room.joined = false
    room.members.clear()
    room.typing.clear()
    addNote(room, `You left #${name}.`)
  } catch (error) {
    addNote(room, `Could not leave #${name}: ${describe(error)}`)
  }
  renderRoomChrome()
  renderTyping()
}

/** Moderators only: remove a user from a room, on every instance (REST → app.ws.removeFromRoom). */
async function removeMember (room: Room, userId: string): Promise<void> {
  if (currentToken === undefined) return
  try {
    const response = await fetch(`/rooms/${encodeURIComponent(room.name)}/members/${encodeURIComponent(userId)}/remove`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await currentToken()}` },
    })
    if (!response.ok) throw new Error(`HTTP ${response.status}`)
    addNote(room, `You removed ${userId} from #${room.name}.`)
  } catch (error) {
    addNote(room, `Could not remove ${userId}: ${describe(error)}`)
  }
}

function select (name: string): void {
  current = name
  const room = roomOf(name)
  room.unread = 0
  history.replaceState(null, '', `#${name}`)
  renderRoomChrome()
  renderMessages()
  renderTyping()
}

ui.newRoomForm.addEventListener('submit', (event) => {
  event.preventDefault()
  const name = ui.newRoomInput.value.trim()
  if (!ROOM_NAME.test(name)) {
    ui.newRoomInput.setCustomValidity('Letters, digits and _ - . : @ # / (up to 128)')
    ui.newRoomInput.reportValidity()
    return
  }
  ui.newRoomInput.setCustomValidity('')
  ui.newRoomInput.value = ''
  void join(name)
})
ui.newRoomInput.addEventListener('input', () => ui.newRoomInput.setCustomValidity(''))

ui.roomToggle.addEventListener('click', () => {
  if (current === undefined) return
  if (roomOf(current).joined) void leave(current)
  else void join(current)
})

// ── composer ───────────────────────────────────────────────────────────────

ui.composer.addEventListener('submit', (event) => {
  event.preventDefault()
  const content = ui.messageInput.value.trim()
  const room = current
  if (content === '' || room === undefined || client === undefined) return
  ui.messageInput.value = ''
  lastTypingSentAt = 0
  // Sent at once when connected; queued by the client while it reconnects.
  client.sendMessage({ room, content }).catch((error: unknown) => {
    addNote(roomOf(room), `Not sent: "${content.slice(0, 40)}" (${describe(error)})`)
  })
})

ui.messageInput.addEventListener('input', () => {
  const room = current
  if (ui.messageInput.value === '' || room === undefined || client?.state !== 'open') return
  const now = Date.now()
  if (now - lastTypingSentAt < TYPING_SEND_EVERY_MS) return
  lastTypingSentAt = now
  // Typing is a hint: losing one is fine.
  client.sendTyping({ room }).catch(() => {})
})

// ── rendering ──────────────────────────────────────────────────────────────

const STATUS_TEXT: Record<ConnectionState, string> = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  open: 'Connected',
  reconnecting: 'Reconnecting…',
  closed: 'Offline',
  unauthorized: 'Signed out: the server refused the token',
}

function renderStatus (state: ConnectionState): void {
  ui.status.dataset.state = state
  let text = STATUS_TEXT[state]
  if (state === 'connecting' && retrying) text = 'Reconnecting now…'
  if (state === 'reconnecting') {
    const seconds = Math.max(0, Math.ceil((reconnectAt - Date.now()) / 1000))
    text = seconds > 0 ? `Reconnecting in ${seconds} s` : 'Reconnecting…'
  }
  if (ui.statusText.textContent !== text) ui.statusText.textContent = text
  ui.statusRetry.hidden = state !== 'closed'
  renderComposer()
}

ui.statusRetry.addEventListener('click', () => { client?.connect().catch(() => {}) })

function renderRoomChrome (): void {
  // Room list: the defaults, then every room seen this session.
  const names = [...new Set([...DEFAULT_ROOMS, ...rooms.keys()])]
  ui.rooms.replaceChildren(...names.map((name) => {
    const room = rooms.get(name)
    const item = el('li')
    const button = el('button', 'room' + (name === current ? ' current' : '') + (room?.joined === true ? ' joined' : ''))
    button.type = 'button'
    button.dataset.room = name
    if (name === current) button.setAttribute('aria-current', 'true')
    button.append(el('span', 'hash', '#'), el('span', 'room-name', name))
    if (room?.joined === true && room.unread > 0) button.append(el('span', 'badge', String(room.unread)))
    else if (room?.joined === true) button.append(el('span', 'joined-mark', 'joined'))
    button.addEventListener('click', () => { void join(name) })
    item.append(button)
    return item
  }))

  const room = current === undefined ? undefined : roomOf(current)
  ui.roomTitle.textContent = room === undefined ? 'Pick a room' : `#${room.name}`
  ui.roomToggle.hidden = room === undefined || room.joining
  ui.roomToggle.textContent = room?.joined === true ? 'Leave' : 'Join'
  const count = room?.members.size ?? 0
  ui.roomSubtitle.textContent = room === undefined
    ? ''
    : room.joining ? 'Joining…' : room.joined ? `${count} ${count === 1 ? 'member' : 'members'} online` : 'You are not in this room'

  const members = [...(room?.members ?? [])].sort((a, b) => a.localeCompare(b))
  ui.memberCount.textContent = room?.joined === true ? String(members.length) : ''
  ui.members.replaceChildren(...members.map((userId) => {
    const item = el('li', 'member')
    item.dataset.user = userId
    item.append(avatar(userId), el('span', 'member-name', userId))
    if (userId === me) item.append(el('span', 'you', 'you'))
    else if (moderator && room !== undefined) {
      const remove = el('button', 'link remove', 'Remove')
      remove.type = 'button'
      remove.title = `Remove ${userId} from #${room.name}`
      remove.addEventListener('click', () => { void removeMember(room, userId) })
      item.append(remove)
    }
    return item
  }))
  renderComposer()
}

function renderComposer (): void {
  const room = current === undefined ? undefined : rooms.get(current)
  const usable = room?.joined === true && client !== undefined && client.state !== 'closed' && client.state !== 'unauthorized'
  ui.messageInput.disabled = !usable
  ui.sendButton.disabled = !usable
  ui.messageInput.placeholder = room === undefined ? 'Pick a room' : usable ? `Message #${room.name}` : `Join #${room.name} to write`
}

function addNote (room: Room, text: string): void {
  append(room, { kind: 'note', text, ts: Date.now() })
}

function append (room: Room, entry: Entry): void {
  const previous = room.entries.at(-1)
  room.entries.push(entry)
  if (room.name !== current) {
    if (entry.kind === 'message') room.unread++
    renderRoomChrome()
    return
  }
  ui.messages.querySelector(':scope > .empty')?.remove()
  const nearBottom = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 80
  ui.messages.append(entryElement(entry, previous))
  if (nearBottom || (entry.kind === 'message' && entry.userId === me)) ui.messages.scrollTop = ui.messages.scrollHeight
}

function renderMessages (): void {
  const room = current === undefined ? undefined : rooms.get(current)
  const entries = room?.entries ?? []
  ui.messages.replaceChildren(...entries.map((entry, i) => entryElement(entry, entries[i - 1])))
  if (entries.length === 0) {
    ui.messages.append(el('li', 'empty', room?.joined === true ? 'No messages yet. Say hello!' : 'Join the room to see its messages.'))
  }
  ui.messages.scrollTop = ui.messages.scrollHeight
}

function entryElement (entry: Entry, previous: Entry | undefined): HTMLLIElement {
  if (entry.kind === 'note') return el('li', 'note', entry.text)
  const mine = entry.userId === me
  const continued = previous?.kind === 'message' && previous.userId === entry.userId && entry.ts - previous.ts < GROUP_WITHIN_MS
  const item = el('li', 'message' + (mine ? ' mine' : '') + (continued ? ' continued' : ''))
  item.dataset.user = entry.userId
  if (entry.seq !== undefined) item.dataset.seq = String(entry.seq)
  item.append(continued ? el('span', 'avatar spacer') : avatar(entry.userId))

  const bubble = el('div', 'bubble')
  if (!continued) {
    const meta = el('div', 'meta')
    const time = el('time', undefined, timeFormat.format(entry.ts))
    time.dateTime = new Date(entry.ts).toISOString()
    time.title = dateTimeFormat.format(entry.ts)
    meta.append(el('span', 'author', entry.userId), time)
    bubble.append(meta)
  }
  bubble.append(el('p', 'text', entry.content))
  const reactions = el('div', 'reactions')
  reactionRows.set(entry, reactions)
  renderReactions(entry, reactions)
  bubble.append(reactions)
  item.append(bubble)

  if (entry.seq !== undefined) {
    const actions = el('div', 'react-actions')
    for (const emoji of REACTIONS) {
      const button = el('button', 'react', emoji)
      button.type = 'button'
      button.setAttribute('aria-label', `React with ${emoji}`)
      button.addEventListener('click', () => react(entry, emoji))
      actions.append(button)
    }
    item.append(actions)
  }
  return item
}

function renderReactions (message: ChatMessage, row: HTMLElement): void {
  row.replaceChildren(...[...message.reactions].map(([emoji, users]) => {
    const chip = el('span', 'chip' + (users.has(me) ? ' mine' : ''), `${emoji} ${users.size}`)
    chip.title = [...users].join(', ')
    return chip
  }))
}

function react (message: ChatMessage, emoji: string): void {
  const room = current
  if (room === undefined || message.seq === undefined || client === undefined) return
  client.sendReact({ room, seq: message.seq, emoji }).catch((error: unknown) => addNote(roomOf(room), `Reaction not sent (${describe(error)})`))
}

function renderTyping (): void {
  const room = current === undefined ? undefined : rooms.get(current)
  const now = Date.now()
  const typing = [...(room?.typing ?? [])].filter(([, until]) => until > now).map(([userId]) => userId).sort()
  const text = typing.length === 0
    ? ''
    : typing.length === 1 ? `${typing[0]} is typing…`
      : typing.length === 2 ? `${typing[0]} and ${typing[1]} are typing…` : 'Several people are typing…'
  if (ui.typing.textContent !== text) ui.typing.textContent = text
}

// One clock for the countdown and for expiring typing indicators.
setInterval(() => {
  if (client?.state === 'reconnecting') renderStatus('reconnecting')
  for (const room of rooms.values()) {
    for (const [userId, until] of room.typing) if (until <= Date.now()) room.typing.delete(userId)
  }
  renderTyping()
}, 250)

// ── start ──────────────────────────────────────────────────────────────────

renderRoomChrome()
const remembered = sessionStorage.getItem(NAME_KEY)
if (remembered !== null) void signIn(remembered)
else ui.nameInput.focus()
