/** `npm run token -- <userId> [ttlSeconds]`: print a development token signed with JWT_SECRET. */
import { createSigner } from 'fast-jwt'
import { readConfig } from './config.js'

const [userId, ttl = '86400'] = process.argv.slice(2)
if (userId === undefined || userId === '') {
  console.error('usage: npm run token -- <userId> [ttlSeconds]')
  process.exit(2)
}
const { jwtSecret, usingDevSecret } = readConfig()
if (usingDevSecret) console.error('(signed with the development secret: JWT_SECRET is not set)')
const sign = createSigner({ key: jwtSecret, algorithm: 'HS256', expiresIn: Number(ttl) * 1000 })
console.log(sign({ sub: userId }))
