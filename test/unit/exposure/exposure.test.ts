import { createPrivateKey, X509Certificate } from 'node:crypto'
import { rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { hostKind, isLoopbackAddress } from '../../../src-main/core/exposure/addresses'
import { Busy, hashPassword, PasswordFile } from '../../../src-main/core/exposure/passwords'
import { ipBytes, selfSignedCertificate } from '../../../src-main/core/exposure/self-signed'
import { tempDir } from '../../helpers/core'

const dir = tempDir('edgetwin-exposure-')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('addresses', () => {
  it('tells loopback peers, IPv4-mapped ones included', () => {
    for (const address of ['127.0.0.1', '127.3.2.1', '::1', '::ffff:127.0.0.1'])
      expect(isLoopbackAddress(address), address).toBe(true)
    for (const address of ['10.99.0.2', '::ffff:10.0.0.1', '128.0.0.1', '::', '127.0.0.1.evil', undefined])
      expect(isLoopbackAddress(address), String(address)).toBe(false)
  })

  it('sorts --host values', () => {
    expect(['127.0.0.1', 'localhost', '::1'].map(hostKind)).toEqual(['loopback', 'loopback', 'loopback'])
    expect(['0.0.0.0', '::'].map(hostKind)).toEqual(['wildcard', 'wildcard'])
    expect(['10.0.0.5', 'plant-gw.local', 'fe80::1'].map(hostKind)).toEqual(['lan', 'lan', 'lan'])
  })
})

describe('selfSignedCertificate', () => {
  it('is an X.509 v3 certificate signed by its own P-256 key, with the names asked for', () => {
    const notBefore = new Date('2026-01-01T00:00:00Z')
    const notAfter = new Date('2051-06-01T12:30:00Z')
    const { cert, key } = selfSignedCertificate({
      commonName: 'EdgeTwin gateway',
      dns: ['gateway.local', 'localhost'],
      ips: ['10.99.0.1', '::1', '2001:db8::7'],
      notBefore,
      notAfter,
    })
    const x509 = new X509Certificate(cert)
    expect(x509.subject).toBe('CN=EdgeTwin gateway')
    expect(x509.issuer).toBe(x509.subject)
    expect(x509.verify(x509.publicKey)).toBe(true)
    expect(x509.publicKey.asymmetricKeyDetails).toMatchObject({ namedCurve: 'prime256v1' })
    expect(x509.subjectAltName).toBe(
      'DNS:gateway.local, DNS:localhost, IP Address:10.99.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:2001:DB8:0:0:0:0:0:7',
    )
    expect(x509.checkHost('gateway.local')).toBe('gateway.local')
    expect(x509.checkIP('10.99.0.1')).toBe('10.99.0.1')
    expect(x509.ca).toBe(false)
    // UTCTime before 2050, GeneralizedTime after (RFC 5280 §4.1.2.5).
    expect(new Date(x509.validFrom).toISOString()).toBe(notBefore.toISOString())
    expect(new Date(x509.validTo).toISOString()).toBe('2051-06-01T12:30:00.000Z')
    expect(key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
    expect(x509.checkPrivateKey(createPrivateKey(key))).toBe(true)
  })

  it('writes IP addresses as their 4 or 16 bytes', () => {
    expect(ipBytes('10.0.0.1').toString('hex')).toBe('0a000001')
    expect(ipBytes('::').toString('hex')).toBe('0'.repeat(32))
    expect(ipBytes('fe80::1:2').toString('hex')).toBe('fe800000000000000000000000010002')
    expect(ipBytes('::ffff:10.0.0.1').toString('hex')).toBe('00000000000000000000ffff0a000001')
    expect(() => ipBytes('gateway')).toThrow('not an IP address')
  })
})

describe('PasswordFile', () => {
  // Written by mosquitto_passwd 2.0 (-c -b, then -H sha512): passwords "secret1" and "secret2".
  const MOSQUITTO = [
    'alice:$7$101$ehK4DcHs1NAEQn5S$GQ3I5i5+PP97w7TW/4NqbTvfN89kM9Yuf5JQ0cmStHidn8UY4NpCzQNboWxVN/vKb/xBgeGQMoUk8hgEjcSdmw==',
    'bob:$6$D09zc0GgiTC4XZDX$pazvXkaCyul8Me39uMy05jCRmW/PeXboOPS+DwbNJk/CQjrgsG57PqBbu6Fz3LZouuNhfHQdkoz3T8BvdVqGKA==',
  ]

  it('checks its own scrypt hashes and mosquitto_passwd’s', async () => {
    const file = path.join(dir, 'passwd')
    writeFileSync(file, `# users\n\n${MOSQUITTO.join('\n')}\ncarol:${await hashPassword('secret3')}\n`)
    const users = PasswordFile.read(file)
    expect(users.size).toBe(3)
    const check = (user: string, password: string) => users.check(user, Buffer.from(password))
    expect(await check('alice', 'secret1')).toBe(true)
    expect(await check('alice', 'secret2')).toBe(false)
    expect(await check('bob', 'secret2')).toBe(true)
    expect(await check('carol', 'secret3')).toBe(true)
    expect(await check('carol', 'secret3 ')).toBe(false)
    expect(await check('dave', 'secret1')).toBe(false)
  })

  it('runs at most two slow checks at once, and remembers a password that passed', async () => {
    const file = path.join(dir, 'passwd-busy')
    writeFileSync(file, `op:${await hashPassword('right')}\n`)
    const users = PasswordFile.read(file)
    const wrong = Buffer.from('wrong')
    const attempts = await Promise.allSettled([1, 2, 3].map(() => users.check('op', wrong)))
    expect(attempts.map((a) => a.status)).toEqual(['fulfilled', 'fulfilled', 'rejected'])
    expect((attempts[2] as PromiseRejectedResult).reason).toBeInstanceOf(Busy)
    expect(await users.check('op', Buffer.from('right'))).toBe(true)
    // Known now: no slow check, so never busy.
    const again = await Promise.all([1, 2, 3, 4].map(() => users.check('op', Buffer.from('right'))))
    expect(again).toEqual([true, true, true, true])
  })

  it('refuses a file with a line it cannot read, naming the line', () => {
    const file = path.join(dir, 'passwd-bad')
    writeFileSync(file, `${MOSQUITTO[0]}\nmallory:plaintext\n`)
    expect(() => PasswordFile.read(file)).toThrow(
      `${file} line 2: expected USER:HASH (scrypt, or mosquitto_passwd's)`,
    )
  })
})
