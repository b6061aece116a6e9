import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { tempDir } from './core'

const run = promisify(execFile)

export interface CertFiles {
  /** PEM file paths. */
  cert: string
  key: string
  /** PEM contents. */
  certPem: string
  keyPem: string
}

export interface TestCerts {
  dir: string
  /** The throwaway CA that signed the other two. */
  ca: CertFiles
  /** For 127.0.0.1, localhost and any `serverIps` (subjectAltName), extendedKeyUsage serverAuth. */
  server: CertFiles
  /** CN `edgetwin-test-client`, extendedKeyUsage clientAuth. */
  client: CertFiles
}

/** P-256 keys: as good as RSA here and generated in milliseconds. */
const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
const DAYS = '2'

/** A CA, a server and a client certificate made with the `openssl` command, in a new temp dir. */
export async function generateCerts(options: { serverIps?: string[] } = {}): Promise<TestCerts> {
  const dir = tempDir('edgetwin-certs-')
  const file = (name: string) => path.join(dir, name)
  const openssl = async (...args: string[]) => {
    try {
      await run('openssl', args, { cwd: dir })
    } catch (error) {
      const { stderr, code } = error as { stderr?: string; code?: string }
      if (code === 'ENOENT')
        throw new Error('the certs helper needs the openssl command (apt install openssl)')
      throw new Error(`openssl ${args.join(' ')}: ${stderr ?? (error as Error).message}`)
    }
  }

  await openssl(
    'req',
    '-x509',
    ...KEY,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
    '-days',
    DAYS,
    '-subj',
    '/CN=EdgeTwin test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  )
  const leaf = async (name: string, subject: string, extensions: string[]) => {
    writeFileSync(file(`${name}.ext`), `${['basicConstraints=CA:FALSE', ...extensions].join('\n')}\n`)
    await openssl(
      'req',
      '-new',
      ...KEY,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.csr`),
      '-subj',
      subject,
    )
    await openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-set_serial',
      `0x${Date.now().toString(16)}${name === 'server' ? '01' : '02'}`,
      '-days',
      DAYS,
      '-extfile',
      file(`${name}.ext`),
      '-out',
      file(`${name}.crt`),
    )
  }
  await leaf('server', '/CN=127.0.0.1', [
    `subjectAltName=${['IP:127.0.0.1', 'DNS:localhost', ...(options.serverIps ?? []).map((ip) => `IP:${ip}`)].join(',')}`,
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
  ])
  await leaf('client', '/CN=edgetwin-test-client', [
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=clientAuth',
  ])

  const files = (name: string): CertFiles => ({
    cert: file(`${name}.crt`),
    key: file(`${name}.key`),
    certPem: readFileSync(file(`${name}.crt`), 'utf8'),
    keyPem: readFileSync(file(`${name}.key`), 'utf8'),
  })
  return { dir, ca: files('ca'), server: files('server'), client: files('client') }
}
