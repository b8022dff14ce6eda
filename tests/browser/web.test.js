// Browser test of the staff page: Debian's Chromium driven by playwright-core.  Runs the
// same flows twice, with JavaScript on and off: log in, approve a pending device, upload
// and view a scan, see the backlog, switch language, log out.  With JavaScript on, axe-core
// checks every page (no serious or critical violations).  Every page with its CSS must
// stay under 50 KB.  Screenshots go to $ARTIFACTS.
//
// Environment: MOTCUA_URL, ADMIN_NAME, ADMIN_PASSWORD, SCAN_PNG, DEVICE_IDS (two pending
// devices, "a,b": one approved per run; empty: no devices to approve), DEVICE_CODES (their
// pairing codes, same order), BACKLOG (items queued
// before the test), ARTIFACTS.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const base = process.env.MOTCUA_URL;
const artifacts = process.env.ARTIFACTS;
const deviceIds = (process.env.DEVICE_IDS || '').split(',').filter(Boolean);
const deviceCodes = (process.env.DEVICE_CODES || '').split(',').filter(Boolean);
let backlog = Number(process.env.BACKLOG || '0');
const scan = process.env.SCAN_PNG;
const PAGE_LIMIT = 50 * 1024;
let failures = 0;
let cssBytes = 0;

function ok(msg) { console.log(`   ok: ${msg}`); }
function check(cond, msg) {
	if (!cond) { failures++; console.log(`FAIL: ${msg}`); throw new Error(msg); }
}

async function shot(page, mode, name) {
	await page.screenshot({ path: path.join(artifacts, `${mode}-${name}.png`), fullPage: true });
}

async function axe(page, name) {
	await page.addScriptTag({ content: axeSource });
	const res = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
	const bad = res.violations.filter(v => v.impact === 'serious' || v.impact === 'critical');
	for (const v of bad)
		console.log(`   axe ${name}: ${v.impact} ${v.id}: ${v.help} (${v.nodes.map(n => n.target.join(' ')).join(', ')})`);
	check(bad.length === 0, `axe found ${bad.length} serious/critical violations on ${name}`);
	return res.violations.length;
}

// Opens path, checks its size with the stylesheet, runs axe when JS is on, screenshots.
async function visit(page, mode, pathname, name) {
	const resp = await page.goto(base + pathname);
	check(resp.status() === 200, `${pathname} answered ${resp.status()}`);
	const body = await resp.body();
	check(body.length + cssBytes < PAGE_LIMIT, `${pathname} is ${body.length} + ${cssBytes} bytes of CSS, over 50 KB`);
	let minor = '';
	if (mode === 'js')
		minor = `, axe: no serious/critical (${await axe(page, name)} minor)`;
	await shot(page, mode, name);
	ok(`${name}: ${body.length} B + ${cssBytes} B CSS${minor}`);
}

async function run(mode) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'motcua-chromium-'));
	const ctx = await chromium.launchPersistentContext(dir, {
		executablePath: '/usr/bin/chromium',
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--no-first-run'],
		javaScriptEnabled: mode === 'js',
		bypassCSP: mode === 'js', // only so that axe can be injected; the pages need no script
		viewport: { width: 1280, height: 900 },
		locale: 'vi-VN',
	});
	try {
		const page = ctx.pages()[0] || await ctx.newPage();
		console.log(`== JavaScript ${mode === 'js' ? 'on' : 'off'}`);
		const css = await ctx.request.get(base + '/static/app.css');
		cssBytes = (await css.body()).length;

		// Log in.
		let resp = await page.goto(base + '/');
		check(page.url().startsWith(base + '/login'), `/ without a session went to ${page.url()}`);
		check(await page.getAttribute('html', 'lang') === 'vi', 'the page is not Vietnamese by default');
		await shot(page, mode, 'login');
		if (mode === 'js')
			await axe(page, 'login');
		await page.fill('#name', process.env.ADMIN_NAME);
		await page.fill('#password', process.env.ADMIN_PASSWORD);
		await Promise.all([page.waitForURL(base + '/'), page.click('form.login button[type=submit]')]);
		check((await page.textContent('h1')).includes('Tổng quan'), 'no dashboard after login');
		const cookies = await ctx.cookies();
		const sess = cookies.find(c => c.name === 'motcua_session');
		check(sess && sess.httpOnly && sess.sameSite === 'Strict', 'session cookie is not HttpOnly + SameSite=Strict');
		ok('logged in; session cookie HttpOnly, SameSite=Strict');

		// The backlog.
		await visit(page, mode, '/', 'dashboard');
		check((await page.textContent('#backlog-items')).trim() === String(backlog),
			`dashboard backlog shows ${await page.textContent('#backlog-items')}, expected ${backlog}`);
		check((await page.textContent('#link')).trim() === 'Chưa cấu hình', 'link state is not "not configured"');
		ok(`backlog ${backlog} items shown, link "not configured"`);

		// Approve a pending device.
		await visit(page, mode, '/devices', 'devices');
		const deviceId = deviceIds[mode === 'js' ? 0 : 1];
		if (deviceId) {
			const row = `#dev-${deviceId}`;
			check(await page.isVisible(`#devs0 ~ table ${row}`), `${deviceId} is not listed as pending`);
			// The pairing code the device shows, typed by staff.
			await page.fill(`#code-${deviceId}`, deviceCodes[mode === 'js' ? 0 : 1]);
			await Promise.all([page.waitForURL(/\/devices\?msg=device/),
				page.click(`${row} button[aria-label^="Duyệt"]`)]);
			check(await page.isVisible(`#devs1 ~ table ${row}`), `${deviceId} did not move to the active list`);
			check((await page.textContent(`${row} td:nth-child(5)`)).trim() === 'approved', `${deviceId} not approved`);
			await shot(page, mode, 'device-approved');
			ok(`${deviceId} approved from the page`);
		} else {
			console.log('   SKIPPED STEP: no pending device to approve (devices not available)');
		}

		// Upload a scan from the PC and view it inline.
		await visit(page, mode, '/documents', 'documents');
		await page.setInputFiles('#file', scan);
		await Promise.all([page.waitForURL(/\/documents\/[0-9a-f]{32}\?msg=uploaded/),
			page.click('form[enctype="multipart/form-data"] button[type=submit]')]);
		check(await page.isVisible('p.ok'), 'no "stored" notice after the upload');
		const src = await page.getAttribute('#scan', 'src');
		const raw = await ctx.request.get(base + src);
		check(raw.status() === 200 && raw.headers()['content-type'] === 'image/png', `scan answered ${raw.status()}`);
		check(Buffer.compare(await raw.body(), fs.readFileSync(scan)) === 0, 'the scan shown is not the file uploaded');
		if (mode === 'js') {
			await page.waitForFunction(() => document.getElementById('scan').complete);
			const w = await page.evaluate(() => document.getElementById('scan').naturalWidth);
			check(w > 0, 'the scan does not render in the page');
		}
		const docUrl = new URL(page.url()).pathname;
		await visit(page, mode, docUrl, 'document-view');
		backlog++;
		ok(`uploaded ${path.basename(scan)} and viewed it inline (same bytes)`);

		// The backlog grew by the upload.
		await page.goto(base + '/');
		check((await page.textContent('#backlog-items')).trim() === String(backlog),
			`backlog after the upload shows ${await page.textContent('#backlog-items')}, expected ${backlog}`);
		check((await page.textContent('#intake-today')).trim() !== '0', 'today\'s intake is 0 after an upload');
		ok(`backlog now ${backlog}`);

		// The other pages.
		for (const [p, n] of [['/outbox', 'outbox'], ['/audit', 'audit'], ['/audit?verify=1', 'audit-verify'],
			['/settings', 'settings'], ['/users', 'users'], ['/account', 'account'],
			['/documents?q=scan', 'documents-search'], ['/queue', 'queue'], ['/copies', 'copies']])
			await visit(page, mode, p, n);
		check((await page.textContent('body')).length > 0, 'empty page');
		await page.goto(base + '/audit?verify=1');
		check(await page.isVisible('#verify p.ok'), 'the audit chain did not verify on the page');

		// English by the switch, and back.
		await page.goto(base + '/');
		await Promise.all([page.waitForLoadState(), page.click('a[hreflang="en"]')]);
		check(await page.getAttribute('html', 'lang') === 'en', 'the switch did not give English');
		check((await page.textContent('h1')).trim() === 'Dashboard', 'English dashboard title');
		await shot(page, mode, 'dashboard-en');
		await page.click('a[hreflang="vi"]');
		check(await page.getAttribute('html', 'lang') === 'vi', 'the switch did not give Vietnamese back');
		ok('language switch vi -> en -> vi');

		// Log out.
		await Promise.all([page.waitForURL(/\/login\?msg=loggedout/), page.click('header form button[type=submit]')]);
		await shot(page, mode, 'logged-out');
		resp = await page.goto(base + '/documents');
		check(page.url().startsWith(base + '/login'), 'after logout /documents did not go to the login page');
		ok('logged out; pages need a new login');
	} finally {
		await ctx.close();
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

(async () => {
	try {
		await run('js');
		await run('nojs');
	} catch (e) {
		if (!failures) console.log(`FAIL: ${e.stack || e}`);
		process.exit(1);
	}
	console.log('browser: all flows passed with JavaScript on and off');
})();
