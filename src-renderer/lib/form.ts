// Small helpers shared by the operation forms.
import { tick } from 'svelte'
import type { EntityDetail, OperationView } from './api'
import type { Twin } from './twin.svelte'

/** What every operation form gets from OperationForm, which sends and reports the outcome. */
export interface OperationFormProps {
  entity: EntityDetail
  operation: string
  /** The live twin: forms that wait for their request's outcome follow it there. */
  twin: Twin
  /** True while a request is on its way: submit buttons are disabled. */
  busy: boolean
  /** Sends a request, shows its error if it fails, and says whether the core accepted it. */
  send: (request: () => Promise<OperationView>) => Promise<boolean>
}

/** Moves focus to the first invalid control once the messages are on screen, so it is read out. */
export async function focusFirstInvalid(form: HTMLElement | undefined): Promise<void> {
  await tick()
  form?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus()
}

/** Errors by field name; only the invalid fields have an entry. */
export type Errors<Field extends string> = Partial<Record<Field, string>>

export const hasErrors = (errors: Record<string, string | undefined>) => Object.values(errors).some(Boolean)
