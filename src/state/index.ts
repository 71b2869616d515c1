// The state layer's public face.
export { State, type StateOptions } from './state.js';
export type { ChangeBus, ChangeListener } from './change-bus.js';
export type { UserFilter, NewUserInput } from './users.js';
export type { NewPreAuthKeyInput } from './preauth-keys.js';
export { maskedPreAuthKey } from './preauth-keys.js';
export type { ApiKeyRef } from './api-keys.js';
