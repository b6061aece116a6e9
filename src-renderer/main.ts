import { mount } from 'svelte'
import App from './App.svelte'
import './app.css'

mount(App, { target: document.getElementById('app') as HTMLElement })

// Keeps the UI's files in the browser, so a page loaded while the core is down waits for it instead
// of showing the browser's error page. Browsers allow it on https and localhost only; elsewhere the
// page still retries its parts by itself (Lazy), without the waiting page for a fresh load.
if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {})
