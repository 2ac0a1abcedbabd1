import t from 'tap'
import { MemoryAdapter } from '../plugin.js'
import { adapterCompliance } from './adapter-compliance.js'

adapterCompliance(t, (options) => new MemoryAdapter(options))
