// An official's morning at the counter in Debian's Chromium, JavaScript off, 1024x768:
// call a ticket, upload an ID card scan and wait for its recognition, correct the name (a
// refused correction first: it must come back in Vietnamese with the values kept), open a
// birth registration dossier for that card (a refused opening first), attach three papers
// (two ticked in one submit, one by the short code the lists show), accept (refused without a
// note first), open the receipt, issue a certified copy of the card; then a citizen on a
// 375 px phone checks the copy's seal on /verify and tracks the dossier.  Every page visited
// is checked for internal keys and English; afterwards every page is opened again with
// JavaScript on only to run axe-core (no serious or critical violations) and to measure that
// the public pages need no horizontal scrolling at 375 px.  Screenshots go to $ARTIFACTS.
//
// Environment: MOTCUA_URL, STAFF_NAME, STAFF_PASSWORD, CARD_JPG, PAPERS (three PDF paths,
// comma separated), DB (the store's SQLite file, read for the seal only), ARTIFACTS.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { chromium } = require('playwright-core');
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const base = process.env.MOTCUA_URL;
const artifacts = process.env.ARTIFACTS;
const papers = process.env.PAPERS.split(',');
const NAME = 'Trần Văn Sửa';
const visited = new Set();
let loads = 0, submits = 0, failures = 0, waits = 0;

function ok(msg) { console.log(`   ok: ${msg}`); }
function check(cond, msg) {
	if (!cond) { failures++; console.log(`FAIL: ${msg}`); throw new Error(msg); }
}

// English words and store codes that must not be read on a Vietnamese page.
const ENGLISH = /\b(error|errors|missing|must|invalid|refused|not found|nobody|waiting|dossier|document|submit|accepted|issued|pending|failed|unknown|null|undefined)\b/i;
const CODE = /\b[a-z]+(_[a-z0-9]+)+\b/;

async function words(page, name) {
	const text = await page.locator('body').innerText();
	const en = text.match(ENGLISH), code = text.match(CODE);
	check(!en, `${name}: English word "${en && en[0]}" on the page`);
	check(!code, `${name}: internal key "${code && code[0]}" on the page`);
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(artifacts, `morning-${name}.png`), fullPage: true });
}

// After each page load: record it for the axe pass, check its words, screenshot.
async function seen(page, name) {
	const u = new URL(page.url());
	if (u.pathname !== '/login')
		visited.add(u.pathname + u.search);
	await words(page, name);
	await shot(page, name);
}

async function go(page, p, name) {
	const resp = await page.goto(base + p);
	loads++;
	check(resp.status() === 200, `${p} answered ${resp.status()}`);
	await seen(page, name);
}

// Submits with button sel and waits for the next page; expect: a URL pattern or a status.
async function submit(page, sel, name, expect) {
	const [resp] = await Promise.all([page.waitForNavigation(), page.click(sel)]);
	loads++;
	submits++;
	if (expect instanceof RegExp)
		check(expect.test(page.url()), `${name}: went to ${page.url()}`);
	else
		check(resp.status() === expect, `${name}: answered ${resp.status()}, not ${expect}`);
	await seen(page, name);
	return resp;
}

async function morning(ctx) {
	const page = ctx.pages()[0] || await ctx.newPage();
	await page.goto(base + '/login');
	await page.fill('#name', process.env.STAFF_NAME);
	await page.fill('#password', process.env.STAFF_PASSWORD);
	await Promise.all([page.waitForNavigation(), page.click('form.login button[type=submit]')]);
	ok('logged in');

	// The counter: a ticket given at the desk, called.
	await go(page, '/queue?counter=1', 'counter');
	await page.selectOption('#q-take', 'A');
	await submit(page, 'form:has(#q-take) button', 'ticket-taken', /msg=taken/);
	await submit(page, 'form:has(input[value="next"]) button', 'ticket-called', /msg=called/);
	check((await page.textContent('#q-current')).trim() === 'A001', 'A001 is not in hand');
	ok('A001 taken and called at counter 1');

	// From here the dossier's page loads are counted: ID card to printed receipt.
	const before = loads, subBefore = submits;
	await go(page, '/documents', 'documents');
	await page.setInputFiles('#file', process.env.CARD_JPG);
	await submit(page, 'form[enctype="multipart/form-data"] button[type=submit]', 'card-uploaded', /msg=uploaded/);
	const card = new URL(page.url()).pathname.split('/')[2];
	// Recognition runs beside the page: the official reloads until the fields are there
	// (these reloads are counted apart: they depend on the machine's speed).
	for (let i = 0; i < 600 && !(await page.isVisible('#rec-type')); i++) {
		await page.waitForTimeout(200);
		await page.reload();
		waits++;
	}
	check(await page.isVisible('#rec-type'), 'the card was not recognised');
	await seen(page, 'card-recognised');
	check((await page.textContent('#rec-type')).includes('Căn cước'), 'the type is not in words');

	// A refused correction keeps what was typed and says what to do, in Vietnamese.
	await page.click('#correct summary');
	const dob = await page.inputValue('#in-date_of_birth');
	await page.fill('#in-full_name', NAME);
	await page.fill('#in-date_of_birth', '31/13/1990');
	await submit(page, '#correct button', 'correction-refused', 422);
	check((await page.textContent('#form-error')).includes('Ngày sinh'), 'the refusal does not name the field');
	check(await page.inputValue('#in-full_name') === NAME, 'the refused form lost the name typed');
	check(await page.inputValue('#in-date_of_birth') === '31/13/1990', 'the refused form lost the date typed');
	await page.fill('#in-date_of_birth', dob);
	await submit(page, '#correct button', 'corrected', /msg=corrected/);
	ok(`name corrected to ${NAME} (a refused date first, values kept)`);

	// Papers scanned at the counter.
	const ids = [];
	for (const f of papers) {
		await go(page, '/documents', 'documents');
		await page.setInputFiles('#file', f);
		await submit(page, 'form[enctype="multipart/form-data"] button[type=submit]', 'paper-uploaded', /msg=uploaded/);
		ids.push(new URL(page.url()).pathname.split('/')[2]);
	}

	// Open the dossier: first without choosing who, then with the card.
	await go(page, '/dossiers', 'dossiers');
	await page.selectOption('#proc', 'HT-KS');
	await page.check('#card-none');
	await submit(page, '#ds-open ~ form button', 'open-refused', 409);
	check(await page.isVisible('#form-error'), 'no refusal shown on the form');
	check((await page.inputValue('#proc')) === 'HT-KS', 'the refused form lost the procedure');
	await page.check(`#card-${card}`);
	await submit(page, '#ds-open ~ form button', 'dossier-opened', /\/dossiers\/[0-9]+$/);
	check((await page.textContent('#ds-applicant')).trim() === NAME, 'the corrected name did not reach the dossier');
	const dossierPath = new URL(page.url()).pathname;

	// Two papers ticked in one submit, the third by the short code.
	await page.check(`#pick_${ids[0]}`);
	await page.selectOption(`select[name="item_${ids[0]}"]`, 'to_khai');
	await page.check(`#pick_${ids[1]}`);
	await page.selectOption(`select[name="item_${ids[1]}"]`, 'giay_chung_sinh');
	await submit(page, '#ds-attach ~ form button', 'two-attached', /msg=attached&n=2/);
	await page.fill('#adoc', ids[2].slice(0, 12));
	await page.selectOption('#item', 'giay_to_tuy_than');
	await submit(page, '#ds-attach ~ form button', 'third-attached', /msg=attached&n=1/);
	check((await page.textContent('#missing-count')).includes('Còn thiếu 0'), 'papers still missing');
	await submit(page, '#ds-accept ~ form button', 'accepted', /msg=accepted/);
	const code = (await page.textContent('#ds-code')).trim();
	await Promise.all([page.waitForNavigation(), page.click('#receipt-link')]);
	loads++;
	await seen(page, 'receipt');
	check((await page.locator('body').innerText()).includes(NAME), 'the receipt lacks the corrected name');
	const perDossier = loads - before, formsPerDossier = submits - subBefore;
	ok(`dossier ${code} accepted, receipt open: ${perDossier} page loads, ${formsPerDossier} form submissions from the ID card`);
	await page.pdf({ path: path.join(artifacts, 'morning-receipt.pdf'), format: 'A5' }).catch(() => {});

	// A certified copy of the card.
	await go(page, '/copies', 'copies');
	await page.check(`#pick_${card}`);
	await page.fill('#cp-official', 'Nguyễn Thị Bình');
	await submit(page, '#cp-issue ~ form button', 'copy-issued', /msg=issued/);
	ok('copy issued from the ticked scan');
	return { code, dossierPath, perDossier, formsPerDossier, card };
}

// The citizen's phone: no login, 375 px.
async function phone(ctx, code) {
	const page = ctx.pages()[0] || await ctx.newPage();
	const seal = execFileSync('sqlite3', ['-batch', '-noheader', process.env.DB,
		"SELECT seal FROM copies WHERE state = 'issued' ORDER BY number DESC LIMIT 1"]).toString().trim();
	await go(page, '/verify', 'phone-verify');
	await page.fill('#vf-seal', seal);
	await submit(page, 'form:has(#vf-seal) button', 'phone-verdict', 200);
	check(await page.getAttribute('[data-verdict]', 'data-verdict') === 'valid', 'the seal is not valid on the phone');
	await page.goto(base + '/track');
	loads++;
	await page.fill('#code', ` ${code.toLowerCase()} `);
	await submit(page, 'form[action="/track"] button', 'phone-track', 200);
	check((await page.textContent('#t-code')).trim() === code, 'tracking did not find the code typed in lower case');
	ok('verified the seal and tracked the dossier at 375 px');
	return ['/verify', `/track?code=${encodeURIComponent(code)}`];
}

// JavaScript on only for the checks: axe on each page, and the width at 375 px.
async function audit(ctx, pages, narrow) {
	const page = ctx.pages()[0] || await ctx.newPage();
	let worst = 0;
	for (const p of pages) {
		const resp = await page.goto(base + p);
		if (resp.status() !== 200)
			continue;
		await page.addScriptTag({ content: axeSource });
		const res = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
		const bad = res.violations.filter(v => v.impact === 'serious' || v.impact === 'critical');
		for (const v of bad)
			console.log(`   axe ${p}: ${v.impact} ${v.id}: ${v.help} (${v.nodes.map(n => n.target.join(' ')).join(', ')})`);
		check(bad.length === 0, `axe: ${bad.length} serious/critical violations on ${p}`);
		if (narrow) {
			const w = await page.evaluate(() => document.documentElement.scrollWidth);
			check(w <= 375, `${p} is ${w} px wide at 375 px: horizontal scrolling`);
			worst = Math.max(worst, w);
		}
	}
	ok(`axe: no serious or critical violation on ${pages.length} pages${narrow ? `; widest ${worst} px at 375` : ''}`);
}

async function context(js, width, height) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'motcua-morning-'));
	return chromium.launchPersistentContext(dir, {
		executablePath: '/usr/bin/chromium',
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--no-first-run'],
		javaScriptEnabled: js,
		bypassCSP: js, // only so that axe can be injected; the pages need no script
		viewport: { width, height },
		locale: 'vi-VN',
	});
}

(async () => {
	let ctx = await context(false, 1024, 768);
	let res;
	try {
		res = await morning(ctx);
	} finally {
		await ctx.close();
	}
	const staffPages = [...visited];
	visited.clear();
	ctx = await context(false, 375, 667);
	let pub;
	try {
		pub = await phone(ctx, res.code);
	} finally {
		await ctx.close();
	}
	// The checks with JavaScript on: the staff pages again in a signed-in browser.
	ctx = await context(true, 1024, 768);
	try {
		const page = ctx.pages()[0] || await ctx.newPage();
		await page.goto(base + '/login');
		await page.fill('#name', process.env.STAFF_NAME);
		await page.fill('#password', process.env.STAFF_PASSWORD);
		await Promise.all([page.waitForNavigation(), page.click('form.login button[type=submit]')]);
		await audit(ctx, staffPages.filter(p => !/msg=|\/raw/.test(p)).concat([res.dossierPath, `/documents/${res.card}`, '/copies']), false);
	} finally {
		await ctx.close();
	}
	ctx = await context(true, 375, 667);
	try {
		await audit(ctx, pub, true);
	} finally {
		await ctx.close();
	}
	console.log(`figures: ${res.perDossier} page loads (+${waits} reloads waiting for recognition) and ${res.formsPerDossier} form submissions per dossier (ID card upload to receipt, three papers, one refused correction and one refused opening included)`);
})().catch(e => {
	console.log(`FAIL: ${e.message}`);
	process.exit(1);
}).then(() => process.exit(failures ? 1 : 0));
