import { render, screen } from '@testing-library/svelte'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it } from 'vitest'
import SettingsMenu from '../../src-renderer/lib/components/SettingsMenu.svelte'
import { settings } from '../../src-renderer/lib/settings.svelte'

describe('SettingsMenu', () => {
  afterEach(() => {
    settings.kiosk = false
  })

  it('links the API reference the core serves, for whoever scripts against it', async () => {
    const user = userEvent.setup()
    render(SettingsMenu)
    await user.click(screen.getByRole('button', { name: /Menu/ }))
    expect(screen.getByRole('link', { name: 'API reference' })).toHaveAttribute('href', '/api/v1/docs')
  })

  it('leaves it out of the kiosk, which an operator cannot leave', async () => {
    settings.kiosk = true
    const user = userEvent.setup()
    render(SettingsMenu)
    await user.click(screen.getByRole('button', { name: /Menu/ }))
    expect(screen.getByRole('link', { name: 'Audit trail' })).toBeInTheDocument()
    expect(screen.queryByRole('link', { name: 'API reference' })).toBeNull()
  })
})
