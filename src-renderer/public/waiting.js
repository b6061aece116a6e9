// The waiting page (served by the service worker when a page load cannot reach the core): asks the
// core every few seconds and reloads the page the user asked for as soon as it answers at all (an
// answer that asks for a login is an answer too; the app shows its login page then).
const PAUSE_MS = 2000
let tries = 0
let timer

try {
  const theme = JSON.parse(localStorage.getItem('edgetwin.settings') ?? '{}').theme
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme
} catch {
  // no readable setting: follow the system
}

async function check() {
  clearTimeout(timer)
  try {
    await fetch('/api/v1/session', { cache: 'no-store', credentials: 'same-origin' })
    location.reload()
    return
  } catch {
    tries++
    const tried = document.getElementById('tried')
    if (tried)
      tried.textContent = `Tried ${tries} time${tries === 1 ? '' : 's'}; checking again every few seconds.`
  }
  timer = setTimeout(check, PAUSE_MS)
}

document.getElementById('now')?.addEventListener('click', () => void check())
timer = setTimeout(check, PAUSE_MS)
