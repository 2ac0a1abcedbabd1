/**
 * The example chat page: plain DOM code on the one typed client that `npm run sdk` generates from
 * the app's OpenAPI and AsyncAPI documents (`npm start` bundles it with esbuild): sign-in and older
 * messages through its REST half, everything live through its socket. User content only ever goes
 * through `textContent`, never through HTML.
 *
 * Query parameters (for trying out reconnects, and for the end-to-end test):
 *   ?reconnectBaseMs=100&reconnectMaxMs=500  faster reconnect backoff than the client's default.
 * The location hash names the room to open: http://127.0.0.1:3000/#random
 */
import {
  createClient,
  HttpError,
  NetworkError,
  randomisedExponentialBackoff,
  RealtimeError,
  ServerError,
  type AppClient,
  type BackoffOptions,
  type ConnectionState,
  type GetRoomHistoryResponse,
  type SignInResponse,
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
/** Messages per page of older history (the history route). */
const HISTORY_PAGE = 30
/** Load the page before when scrolled this close to the top. */
const LOAD_OLDER_WITHIN_PX = 40

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
  /** The `before` of the next older page of history; null when there is none, undefined before the first load. */
  olderBefore: number | null | undefined
  loadingOlder: boolean
}

let client: AppClient | undefined
let me = ''
/** Signed in as a moderator: the member list offers "Remove" (a REST call, see examples/chat/moderation.ts). */
let moderator = false
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
    room = { name, joined: false, joining: false, members: new Set(), entries: [], bySeq: new Map(), typing: new Map(), unread: 0, olderBefore: undefined, loadingOlder: false }
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

/** The development sign-in's body: a moderator asks for the `moderator` claim. */
function signInBody (name: string): { name: string, moderator?: boolean } {
  return moderator ? { name, moderator } : { name }
}

/** Why sign-in failed, for the form. */
function signInProblem (error: unknown): string {
  if (error instanceof HttpError && error.status === 400) return "Use 1–32 letters or digits, with spaces or _ . ' - inside."
  if (error instanceof HttpError) return `Sign-in failed (HTTP ${error.status}).`
  if (error instanceof NetworkError) return 'The server is unreachable. Try again.'
  return error instanceof Error ? error.message : String(error)
}

ui.signinForm.addEventListener('submit', (event) => {
  event.preventDefault()
  void signIn(ui.nameInput.value.trim())
})

async function signIn (name: string): Promise<void> {
  ui.signinError.textContent = ''
  moderator = ui.moderatorInput.checked
  const connection = connect(name)
  let token: SignInResponse
  try {
    // DEVELOPMENT ONLY: the example server mints a token for any name (a typed REST call, `POST /dev/token`).
    token = await connection.signIn({ body: signInBody(name) })
  } catch (error) {
    connection.close()
    ui.signinError.textContent = signInProblem(error)
    ui.nameInput.focus()
    return
  }
  signedIn = token
  client = connection
  sessionStorage.setItem(NAME_KEY, name)
  me = token.userId
  ui.meName.textContent = me
  avatar(me, ui.meAvatar)
  ui.signin.hidden = true
  ui.chat.hidden = false
  const fromHash = decodeURIComponent(location.hash.slice(1))
  void join(ROOM_NAME.test(fromHash) ? fromHash : 'general')
}

ui.signout.addEventListener('click', () => {
  client?.close(1000, 'Signed out')
  client = undefined
  signedIn = undefined
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

/** The sign-in reply whose token the client uses (refreshed by the token function). */
let signedIn: SignInResponse | undefined

/** One client for both halves: REST on this origin, the socket at its `/ws`, one token. Connects on first use. */
function connect (name: string): AppClient {
  const connection: AppClient = createClient({
    baseUrl: location.origin,
    // Asked at the first secured REST call or (re)connect, and for each refresh (a 401, a 4001, or
    // before expiry): reuse the token while it has time left, so reconnects need no extra request.
    token: async () => {
      if (signedIn === undefined || signedIn.expiresAt - Date.now() < TOKEN_MARGIN_MS) signedIn = await connection.signIn({ body: signInBody(name) })
      return signedIn.token
    },
    reconnect: randomisedExponentialBackoff(backoffFromQuery()),
  })

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
  connection.on('disconnected', ({ code }) => { if (code === 4001) signedIn = undefined })
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

  connection.onRoomJoined(({ room: name, members, seq }) => {
    const room = roomOf(name)
    if (room.joining) {
      // A fresh join: live messages follow this reply; what came before (up to `seq`) comes from the history route.
      room.entries = []
      room.bySeq.clear()
      room.unread = 0
      room.olderBefore = seq > 0 ? seq + 1 : null
      void loadOlder(room)
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
    if (name !== undefined) addReaction(roomOf(name), seq, userId, emoji)
  })
  return connection
}

function addReaction (room: Room, seq: number, userId: string, emoji: string): void {
  const message = room.bySeq.get(seq)
  if (message === undefined) return
  let users = message.reactions.get(emoji)
  if (users === undefined) message.reactions.set(emoji, users = new Set())
  users.add(userId)
  const row = reactionRows.get(message)
  if (row !== undefined) renderReactions(message, row)
}

// ── older messages (the history route, through the REST half) ──────────────

/** Load the page of history before what the room shows, and put it on top, keeping the scroll position. */
async function loadOlder (room: Room): Promise<void> {
  const before = room.olderBefore
  if (before === null || before === undefined || room.loadingOlder || client === undefined) return
  room.loadingOlder = true
  if (room.name === current) renderMessages({ keepScroll: true })
  let page: GetRoomHistoryResponse
  try {
    page = await client.getRoomHistory({ path: { room: room.name }, query: { before, limit: HISTORY_PAGE } })
  } catch (error) {
    room.loadingOlder = false
    addNote(room, `Could not load older messages: ${describe(error)}`)
    return
  }
  room.loadingOlder = false
  if (room.olderBefore !== before) return // the room was joined afresh meanwhile
  room.olderBefore = page.next
  const older: ChatMessage[] = []
  for (const frame of page.messages) {
    if (frame.type === 'message') {
      const { userId, content, ts } = frame.payload
      const message: ChatMessage = { kind: 'message', userId, content, ts, seq: frame.seq, reactions: new Map() }
      room.bySeq.set(frame.seq, message)
      older.push(message)
    } else {
      addReaction(room, frame.payload.seq, frame.payload.userId, frame.payload.emoji)
    }
  }
  room.entries.unshift(...older)
  if (room.name === current) renderMessages({ keepScroll: room.entries.length > older.length })
}

ui.messages.addEventListener('scroll', () => {
  const room = current === undefined ? undefined : rooms.get(current)
  if (room !== undefined && ui.messages.scrollTop < LOAD_OLDER_WITHIN_PX) void loadOlder(room)
})

function describe (error: unknown): string {
  if (error instanceof ServerError) return `${error.message} (${error.code})`
  if (error instanceof RealtimeError) return error.message
  if (error instanceof HttpError) return `HTTP ${error.status}`
  if (error instanceof NetworkError) return 'the server is unreachable'
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
    // Older messages come from the history route once joined (see onRoomJoined).
    await client.sendJoinRoom({ room: name })
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
  if (signedIn === undefined) return
  try {
    const response = await fetch(`/rooms/${encodeURIComponent(room.name)}/members/${encodeURIComponent(userId)}/remove`, {
      method: 'POST',
      headers: { authorization: `Bearer ${signedIn.token}` },
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

/** `keepScroll`: older messages went on top: keep what the reader looks at where it is. */
function renderMessages (options: { keepScroll?: boolean } = {}): void {
  const room = current === undefined ? undefined : rooms.get(current)
  const entries = room?.entries ?? []
  const fromBottom = ui.messages.scrollHeight - ui.messages.scrollTop
  ui.messages.replaceChildren(...entries.map((entry, i) => entryElement(entry, entries[i - 1])))
  if (room !== undefined && room.olderBefore !== undefined) ui.messages.prepend(historyEdge(room))
  if (entries.length === 0 && room?.loadingOlder !== true) {
    ui.messages.append(el('li', 'empty', room?.joined === true ? 'No messages yet. Say hello!' : 'Join the room to see its messages.'))
  }
  ui.messages.scrollTop = options.keepScroll === true ? ui.messages.scrollHeight - fromBottom : ui.messages.scrollHeight
}

/** The top of the list: more history to load (scrolling up loads it too), or the room's beginning. */
function historyEdge (room: Room): HTMLLIElement {
  const item = el('li', 'history-edge')
  if (room.loadingOlder) item.append(el('span', undefined, 'Loading older messages…'))
  else if (room.olderBefore === null) item.append(el('span', undefined, room.entries.some((entry) => entry.kind === 'message') ? `The beginning of #${room.name}` : ''))
  else {
    const button = el('button', 'link', 'Load older messages')
    button.type = 'button'
    button.addEventListener('click', () => { void loadOlder(room) })
    item.append(button)
  }
  return item
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
