import { json } from '@sveltejs/kit';
import { api } from '$lib/server/api.ts';
import { contactFor, maskContact } from '$lib/server/contact.ts';

/**
 * The reporter's contact, masked: `{"contact": {name?, phone?, email?, deviceId?, accountId?} | null,
 * "masked": true}` (e.g. phone 139****5678). For the case's handlers only: 404 outside the user's scope,
 * 403 for analysts and viewers. `POST …/contact/reveal` answers it unmasked, audited.
 */
export const GET = api(async (event) => {
  const { contact } = await contactFor(event);
  return json({ contact: contact ? maskContact(contact) : null, masked: true });
});
