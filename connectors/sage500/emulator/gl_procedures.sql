-- Sage 500 emulator: the GL journal API procedure (same convention as spSOapiSalesOrdIns in procedures.sql).

-- [I] GL journal import: one batch per staged Reference (its lines must balance), the Reference kept
-- as the batch comment. A Reference already imported is rejected as a duplicate.
CREATE OR REPLACE PROCEDURE spglapiGLTransactionIns(
    INOUT _oContinue int, _iCancel int, _iSessionKey int, _iCompanyID varchar, _iRptOption int,
    _iPrintWarnings int, _iUseStageTable int, INOUT _oRecsProcessed int, INOUT _oFailedRecs int,
    INOUT _oTotalRecs int, INOUT _oRetVal int)
LANGUAGE plpgsql AS $$
DECLARE
    j record;
    l record;
    ok boolean;
    v_batch int;
    v_no int;
    v_batch_id varchar(16);
    v_tran int;
BEGIN
    _oContinue := 0;
    _oRetVal := zApiCallStart(_iSessionKey, _iCompanyID, _iUseStageTable, _iCancel);
    IF _oRetVal IS NOT NULL THEN
        RETURN;
    END IF;

    FOR j IN SELECT Reference, min(TranDate) AS TranDate, sum(DebitAmt) AS dr, sum(CreditAmt) AS cr,
                    bool_or(CompanyID <> _iCompanyID) AS foreign_company
             FROM StgGLTransaction WHERE SessionKey = _iSessionKey AND ProcessStatus = 0
             GROUP BY Reference ORDER BY min(RowKey) LIMIT zMaxRowsPerRun() LOOP
        ok := true;
        IF j.foreign_company THEN
            PERFORM zMigrationLog(_iSessionKey, _iRptOption, 1, j.Reference, 'CompanyID', _iCompanyID,
                'Every line must belong to the session''s company.');
            ok := false;
        END IF;
        IF j.dr <> j.cr THEN
            PERFORM zMigrationLog(_iSessionKey, _iRptOption, 1, j.Reference, 'DebitAmt', j.dr::text,
                format('Journal %s does not balance: debits %s, credits %s.', j.Reference, j.dr, j.cr));
            ok := false;
        END IF;
        IF EXISTS (SELECT 1 FROM tciBatchLog WHERE CompanyID = _iCompanyID AND BatchCmnt = j.Reference) THEN
            INSERT INTO tdmMigrationLogWrk (ColumnID, ColumnValue, Duplicate, Comment, EntityID, Status, SessionKey)
            VALUES ('Reference', j.Reference, 1, format('Journal %s was already imported.', j.Reference),
                    j.Reference, 1, _iSessionKey);
            ok := false;
        END IF;
        FOR l IN SELECT * FROM StgGLTransaction
                 WHERE SessionKey = _iSessionKey AND Reference = j.Reference AND ProcessStatus = 0 LOOP
            IF NOT EXISTS (SELECT 1 FROM tglAccount WHERE CompanyID = _iCompanyID AND GLAcctNo = l.GLAcctNo) THEN
                PERFORM zMigrationLog(_iSessionKey, _iRptOption, 1, j.Reference, 'GLAcctNo', l.GLAcctNo,
                    format('Invalid GLAcctNo ''%s'': no such account in company %s.', l.GLAcctNo, _iCompanyID));
                ok := false;
            END IF;
            IF l.DebitAmt < 0 OR l.CreditAmt < 0 OR (l.DebitAmt <> 0 AND l.CreditAmt <> 0) THEN
                PERFORM zMigrationLog(_iSessionKey, _iRptOption, 1, j.Reference, 'DebitAmt', l.DebitAmt::text,
                    format('Account %s: a line has either a debit or a credit, not negative.', l.GLAcctNo));
                ok := false;
            END IF;
        END LOOP;

        IF ok THEN
            CALL spGetNextSurrogateKey('tciBatchLog', v_batch);
            UPDATE tsmCompany SET NextBatchNo = NextBatchNo + 1 WHERE CompanyID = _iCompanyID
            RETURNING NextBatchNo - 1 INTO v_no;
            v_batch_id := 'GL-' || lpad(v_no::text, 7, '0');
            INSERT INTO tciBatchLog (BatchKey, CompanyID, BatchID, BatchCmnt, PostDate)
            VALUES (v_batch, _iCompanyID, v_batch_id, j.Reference, j.TranDate);
            FOR l IN SELECT * FROM StgGLTransaction
                     WHERE SessionKey = _iSessionKey AND Reference = j.Reference AND ProcessStatus = 0
                     ORDER BY RowKey LOOP
                CALL spGetNextSurrogateKey('tglTransaction', v_tran);
                INSERT INTO tglTransaction (GLTranKey, BatchKey, GLAcctKey, TranDate, TranDesc, PostAmt, CurrID)
                SELECT v_tran, v_batch, a.GLAcctKey, l.TranDate, l.TranDesc, l.DebitAmt - l.CreditAmt, l.CurrID
                FROM tglAccount a WHERE a.CompanyID = _iCompanyID AND a.GLAcctNo = l.GLAcctNo;
            END LOOP;
            PERFORM zMigrationLog(_iSessionKey, _iRptOption, 3, j.Reference, 'BatchID', v_batch_id,
                format('Journal %s imported as batch %s.', j.Reference, v_batch_id));
        END IF;
        UPDATE StgGLTransaction SET ProcessStatus = CASE WHEN ok THEN 1 ELSE 2 END
        WHERE SessionKey = _iSessionKey AND Reference = j.Reference AND ProcessStatus = 0;
    END LOOP;

    SELECT count(DISTINCT Reference) FILTER (WHERE ProcessStatus <> 0),
           count(DISTINCT Reference) FILTER (WHERE ProcessStatus = 2), count(DISTINCT Reference),
           CASE WHEN count(*) FILTER (WHERE ProcessStatus = 0) > 0 THEN 1 ELSE 0 END
    INTO _oRecsProcessed, _oFailedRecs, _oTotalRecs, _oContinue
    FROM StgGLTransaction WHERE SessionKey = _iSessionKey;
    UPDATE tsmMigrateSession SET LastCompProcessTime = now() WHERE MigrateSessionKey = _iSessionKey;
    _oRetVal := 1;
END $$;
