import {
  MongoCompatibilityError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { describe, expect, it } from 'vitest';
import { mongodb } from '../../src/drivers/mongodb/index.js';

const driver = mongodb('mongodb://127.0.0.1:27017/test');

describe('mongodb isDisconnect', () => {
  it('knows the driver network, selection and closed-topology errors', () => {
    expect(driver.isDisconnect(new MongoNetworkError('connection reset'))).toBe(true);
    expect(driver.isDisconnect(new MongoNetworkTimeoutError('timed out'))).toBe(true);
    expect(
      driver.isDisconnect(new MongoServerSelectionError('no server', { error: undefined } as never)),
    ).toBe(true);
    expect(driver.isDisconnect(new MongoTopologyClosedError())).toBe(true);
  });

  it('knows the pool-cleared errors by name, the ResetPool label and the raw ECONNRESET', () => {
    const cleared = Object.assign(new Error('pool cleared'), { name: 'MongoPoolClearedError' });
    expect(driver.isDisconnect(cleared)).toBe(true);
    const labelled = new MongoServerError({ message: 'x', errmsg: 'x', code: 1 });
    labelled.addErrorLabel('ResetPool');
    expect(driver.isDisconnect(labelled)).toBe(true);
    expect(driver.isDisconnect(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(
      true,
    );
    expect(driver.isDisconnect(new Error('wrapped', { cause: new MongoNetworkError('reset') }))).toBe(true);
  });

  it('knows a server shutting down', () => {
    expect(
      driver.isDisconnect(new MongoServerError({ message: 'x', errmsg: 'shutting down', code: 91 })),
    ).toBe(true);
    expect(
      driver.isDisconnect(new MongoServerError({ message: 'x', errmsg: 'interrupted', code: 11600 })),
    ).toBe(true);
  });

  it('does not take an ordinary server error or a usage error for a dead connection', () => {
    expect(driver.isDisconnect(new MongoServerError({ message: 'dup', errmsg: 'E11000', code: 11000 }))).toBe(
      false,
    );
    expect(
      driver.isDisconnect(new MongoServerError({ message: 'no cmd', errmsg: 'no such command', code: 59 })),
    ).toBe(false);
    expect(driver.isDisconnect(new MongoCompatibilityError('old server'))).toBe(false);
    expect(driver.isDisconnect(new Error('boom'))).toBe(false);
    expect(driver.isDisconnect(undefined)).toBe(false);
    expect(driver.isDisconnect('ECONNRESET')).toBe(false);
  });

  it('calls a transient transaction error retryable, nothing else', () => {
    const transient = new MongoServerError({ message: 'write conflict', errmsg: 'WriteConflict', code: 112 });
    transient.addErrorLabel('TransientTransactionError');
    expect(driver.isRetryable!(transient)).toBe(true);
    expect(driver.isRetryable!(new MongoServerError({ message: 'x', errmsg: 'x', code: 112 }))).toBe(false);
    expect(driver.isRetryable!(new Error('x'))).toBe(false);
  });
});
